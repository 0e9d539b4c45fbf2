//! `rl check`'s report of its verdicts: a text table, a markdown table (a CI job summary) or
//! JUnit XML (one testcase per expectation; what CI systems display).

use super::gate::Verdict;

/// `rl check --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Text,
    Markdown,
    Junit,
}

impl ReportFormat {
    /// The format a report file's extension asks for (`.xml` JUnit, `.md` markdown).
    pub fn of_file(path: &std::path::Path) -> Option<Self> {
        match path.extension()?.to_str()? {
            "xml" => Some(Self::Junit),
            "md" => Some(Self::Markdown),
            "txt" => Some(Self::Text),
            _ => None,
        }
    }
}

/// The verdicts rendered in `format`.
pub fn render(verdicts: &[Verdict], format: ReportFormat) -> String {
    match format {
        ReportFormat::Text => text(verdicts),
        ReportFormat::Markdown => markdown(verdicts),
        ReportFormat::Junit => junit(verdicts),
    }
}

fn word(passed: bool) -> &'static str {
    if passed { "PASS" } else { "FAIL" }
}

fn summary(verdicts: &[Verdict]) -> String {
    let failed = verdicts.iter().filter(|v| !v.passed).count();
    if failed == 0 {
        format!("all {} expectations hold", verdicts.len())
    } else {
        format!("{failed} of {} expectations fail", verdicts.len())
    }
}

fn text(verdicts: &[Verdict]) -> String {
    let header = ["result", "experiment", "expectation", "measured"];
    let rows: Vec<[String; 4]> = verdicts
        .iter()
        .map(|v| {
            [
                word(v.passed).to_string(),
                v.experiment.clone(),
                v.expectation.clone(),
                v.measured.clone(),
            ]
        })
        .collect();
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain([header[i].len()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..4).map(width).collect();
    let line = |cells: [&str; 4]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        padded.join("  ").trim_end().to_string() + "\n"
    };
    let mut out = line(header);
    for r in &rows {
        out += &line([&r[0], &r[1], &r[2], &r[3]]);
    }
    out + &summary(verdicts) + "\n"
}

fn markdown(verdicts: &[Verdict]) -> String {
    let cell = |s: &str| s.replace('|', "\\|");
    let mut out =
        String::from("| result | experiment | expectation | measured |\n|---|---|---|---|\n");
    for v in verdicts {
        out += &format!(
            "| {} {} | {} | {} | {} |\n",
            if v.passed { "✅" } else { "❌" },
            word(v.passed),
            cell(&v.experiment),
            cell(&v.expectation),
            cell(&v.measured)
        );
    }
    out + "\n**" + &summary(verdicts) + "**\n"
}

/// XML text with `&`, `<`, `>` and quotes escaped.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn junit(verdicts: &[Verdict]) -> String {
    let failures = verdicts.iter().filter(|v| !v.passed).count();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"rl check\" tests=\"{}\" failures=\"{failures}\">\n  <testsuite name=\"rl check\" tests=\"{}\" failures=\"{failures}\">\n",
        verdicts.len(),
        verdicts.len()
    );
    for v in verdicts {
        out += &format!(
            "    <testcase classname=\"{}\" name=\"{}\">\n",
            escape(&v.experiment),
            escape(&v.expectation)
        );
        if v.passed {
            out += &format!("      <system-out>{}</system-out>\n", escape(&v.measured));
        } else {
            out += &format!(
                "      <failure message=\"measured: {}\">{}: expected {}, measured {}</failure>\n",
                escape(&v.measured),
                escape(&v.experiment),
                escape(&v.expectation),
                escape(&v.measured)
            );
        }
        out += "    </testcase>\n";
    }
    out + "  </testsuite>\n</testsuites>\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdicts() -> Vec<Verdict> {
        vec![
            Verdict {
                experiment: "ppo".into(),
                expectation: "final ≥ 475 on ≥ 4/5 seeds".into(),
                measured: "5/5 seeds".into(),
                passed: true,
            },
            Verdict {
                experiment: "ppo".into(),
                expectation: "IQM of finals ≥ 1000".into(),
                measured: "500 <&>".into(),
                passed: false,
            },
        ]
    }

    #[test]
    fn junit_names_the_failure_with_its_measure() {
        let xml = render(&verdicts(), ReportFormat::Junit);
        assert!(xml.contains("tests=\"2\" failures=\"1\""));
        assert!(xml.contains("<failure message=\"measured: 500 &lt;&amp;&gt;\">"));
        assert_eq!(xml.matches("<testcase ").count(), 2);
    }

    #[test]
    fn text_and_markdown_summarise() {
        let t = render(&verdicts(), ReportFormat::Text);
        assert!(t.starts_with("result  experiment") && t.ends_with("1 of 2 expectations fail\n"));
        let md = render(&verdicts(), ReportFormat::Markdown);
        assert!(md.contains("| ❌ FAIL | ppo | IQM of finals ≥ 1000 | 500 <&> |"));
    }
}
