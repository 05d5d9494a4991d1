//! Accuracy against mean CoT tokens: a terminal scatter and a standalone SVG. Hand-written
//! (about 80 lines) rather than plotters, whose font and image stacks would double the build.

use super::summary::{Method, Row};

fn marker(m: Method) -> char {
    match m {
        Method::Tokenskip => '*',
        Method::Truncation => 'x',
        Method::Prompt => 'o',
    }
}

fn bounds(rows: &[Row]) -> (f64, f64) {
    let max_t = rows.iter().map(|r| r.mean_tokens).fold(1.0, f64::max);
    (0.0, max_t * 1.05)
}

/// A `width` x `height` character plot (accuracy 0-100% up, tokens right).
pub fn terminal(rows: &[Row], width: usize, height: usize) -> String {
    let (w, h) = (width.max(10), height.max(4));
    let (_, max_t) = bounds(rows);
    let mut grid = vec![vec![' '; w]; h];
    for r in rows {
        let x = ((r.mean_tokens / max_t) * (w - 1) as f64).round() as usize;
        let y = h - 1 - ((r.accuracy * (h - 1) as f64).round() as usize).min(h - 1);
        grid[y][x.min(w - 1)] = marker(r.method);
    }
    let mut s = String::new();
    for (i, row) in grid.iter().enumerate() {
        let label = if i == 0 {
            "100%"
        } else if i == h - 1 {
            "  0%"
        } else {
            "    "
        };
        s.push_str(&format!("{label} |{}\n", row.iter().collect::<String>()));
    }
    s.push_str(&format!(
        "     +{}\n      0{:>width$}\n",
        "-".repeat(w),
        format!("{max_t:.0} tokens"),
        width = w - 1
    ));
    s.push_str("      * tokenskip   x truncation   o prompt\n");
    s
}

/// One line of an SVG chart: a legend label, a colour and its points.
pub struct Series<'a> {
    pub label: String,
    pub colour: &'a str,
    pub rows: Vec<&'a Row>,
}

/// Distinct colours for series (matplotlib's tab10).
pub const PALETTE: [&str; 10] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];

/// A self-contained SVG of the same plot, gamma labelled next to each point, one line per
/// method.
pub fn svg(rows: &[Row], title: &str) -> String {
    let series: Vec<Series> = [
        (Method::Tokenskip, "#1f77b4"),
        (Method::Truncation, "#d62728"),
        (Method::Prompt, "#2ca02c"),
    ]
    .into_iter()
    .map(|(m, colour)| Series {
        label: format!("{m:?}").to_lowercase(),
        colour,
        rows: rows.iter().filter(|r| r.method == m).collect(),
    })
    .collect();
    svg_series(&series, title)
}

/// Accuracy against mean CoT tokens for several labelled series (e.g. one per scorer).
pub fn svg_series(series: &[Series], title: &str) -> String {
    let (w, h, pad) = (720.0, 460.0, 56.0);
    let all: Vec<Row> = series
        .iter()
        .flat_map(|s| s.rows.iter().map(|r| (*r).clone()))
        .collect();
    let (_, max_t) = bounds(&all);
    let px = |t: f64| pad + t / max_t * (w - 2.0 * pad - 150.0);
    let py = |a: f64| h - pad - a * (h - 2.0 * pad);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">{}</text>\n\
         <line x1=\"{pad}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n\
         <line x1=\"{pad}\" y1=\"{pad}\" x2=\"{pad}\" y2=\"{}\" stroke=\"black\"/>\n\
         <text x=\"{}\" y=\"{}\" text-anchor=\"middle\">mean CoT tokens</text>\n\
         <text x=\"16\" y=\"{}\" transform=\"rotate(-90 16 {})\" text-anchor=\"middle\">accuracy (%)</text>\n",
        w / 2.0, xml(title), h - pad, px(max_t), h - pad, h - pad, px(max_t / 2.0), h - 16.0, h / 2.0, h / 2.0
    );
    for i in 0..=4 {
        let a = i as f64 / 4.0;
        let t = max_t * a;
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{:.0}</text><text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{t:.0}</text>\n",
            pad - 6.0, py(a) + 4.0, a * 100.0, px(t), h - pad + 16.0
        ));
    }
    let mut legend = 0;
    for line in series.iter().filter(|l| !l.rows.is_empty()) {
        let path: Vec<String> = line
            .rows
            .iter()
            .map(|r| format!("{:.1},{:.1}", px(r.mean_tokens), py(r.accuracy)))
            .collect();
        let c = line.colour;
        s.push_str(&format!(
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{c}\"/>\n",
            path.join(" ")
        ));
        for r in &line.rows {
            s.push_str(&format!(
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"{c}\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\">{:.2}</text>\n",
                px(r.mean_tokens), py(r.accuracy), px(r.mean_tokens) + 6.0, py(r.accuracy) - 6.0, r.gamma
            ));
        }
        let y = 50.0 + 16.0 * legend as f64;
        s.push_str(&format!(
            "<circle cx=\"{}\" cy=\"{y}\" r=\"4\" fill=\"{c}\"/><text x=\"{}\" y=\"{}\">{}</text>\n",
            w - 160.0, w - 150.0, y + 4.0, xml(&line.label)
        ));
        legend += 1;
    }
    s.push_str("</svg>\n");
    s
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
