//! One chart of the report: an inline SVG drawn with `plotters`, wrapped in a
//! `<figure>` with its title, what it counts, and an HTML legend.
//!
//! The legend is HTML, not SVG, so every mark in the SVG in a series colour
//! is data: the browser check (`scripts/browser-check/check-report.mjs`)
//! counts them per colour listed in the figure's `data-colors`.

use plotters::prelude::*;
use std::fmt::Write as _;

use super::escape;

/// Series colours (Tableau 10), in order.
pub const PALETTE: [(u8, u8, u8); 8] = [
    (0x1f, 0x77, 0xb4),
    (0xff, 0x7f, 0x0e),
    (0x2c, 0xa0, 0x2c),
    (0xd6, 0x27, 0x28),
    (0x94, 0x67, 0xbd),
    (0x8c, 0x56, 0x4b),
    (0xe3, 0x77, 0xc2),
    (0x17, 0xbe, 0xcf),
];

const WIDTH: u32 = 640;
/// Up to this many x values a line chart marks each value with a dot.
const MAX_DOTS: usize = 120;
const HEIGHT: u32 = 300;

/// How the series are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A line per series, a dot per value; gaps where a value is missing.
    Lines,
    /// Bars side by side at each x.
    Bars,
    /// Bars stacked to 100 % at each x: each series' share.
    Shares,
}

/// One named series of values, one per x label.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

/// A chart to draw.
#[derive(Debug, Clone)]
pub struct Chart {
    /// The view id (the Kibana panel's id as well).
    pub id: &'static str,
    pub title: String,
    /// What is counted or measured, shown under the title.
    pub note: String,
    pub x_title: String,
    pub y_title: String,
    pub x_labels: Vec<String>,
    pub series: Vec<Series>,
    pub kind: Kind,
}

fn hex((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

impl Chart {
    /// The `<figure>` holding this chart.
    pub fn html(&self) -> String {
        let colours: Vec<(&Series, (u8, u8, u8))> = self
            .series
            .iter()
            .zip(PALETTE.iter().cycle().copied())
            .collect();
        let with_data: Vec<String> = colours
            .iter()
            .filter(|(s, _)| s.values.iter().any(|v| v.is_some_and(|v| v > 0.0)))
            .map(|(_, c)| hex(*c))
            .collect();
        let svg = match self.svg(&colours) {
            Ok(svg) => svg,
            Err(e) => format!("<p class=\"error\">chart not drawn: {}</p>", escape(&e)),
        };
        let mut h = String::new();
        let _ = write!(
            h,
            "<figure class=\"chart\" id=\"{id}\" data-view=\"{id}\" data-colors=\"{}\">\
<figcaption><strong>{}</strong><br><small>{}</small></figcaption>{svg}<ul class=\"legend\">",
            with_data.join(","),
            escape(&self.title),
            escape(&self.note),
            id = self.id,
        );
        for (s, c) in &colours {
            let _ = write!(
                h,
                "<li><span style=\"background:{}\"></span>{}</li>",
                hex(*c),
                escape(&s.name)
            );
        }
        if with_data.is_empty() {
            h.push_str("<li><em>no data in this view</em></li>");
        }
        h.push_str("</ul></figure>");
        h
    }

    fn svg(&self, colours: &[(&Series, (u8, u8, u8))]) -> Result<String, String> {
        let n = self.x_labels.len().max(1);
        let top = match self.kind {
            Kind::Shares => 100.0,
            Kind::Lines | Kind::Bars => {
                let max = self
                    .series
                    .iter()
                    .flat_map(|s| s.values.iter().flatten())
                    .fold(0.0f64, |a, b| a.max(*b));
                if max > 0.0 { max * 1.08 } else { 1.0 }
            }
        };
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
            root.fill(&WHITE).map_err(|e| e.to_string())?;
            let mut chart = ChartBuilder::on(&root)
                .margin(8)
                .margin_right(16)
                .x_label_area_size(44)
                .y_label_area_size(64)
                .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..top)
                .map_err(|e| e.to_string())?;
            let labels = &self.x_labels;
            let x_fmt = |x: &f64| -> String {
                let i = x.round();
                if (x - i).abs() > 1e-6 || i < 0.0 {
                    return String::new();
                }
                labels.get(i as usize).cloned().unwrap_or_default()
            };
            let y_fmt = |y: &f64| -> String {
                if self.kind == Kind::Shares {
                    format!("{y:.0}%")
                } else if top < 10.0 {
                    format!("{y:.1}")
                } else {
                    format!("{y:.0}")
                }
            };
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(n.min(10))
                .y_labels(6)
                .x_label_formatter(&x_fmt)
                .y_label_formatter(&y_fmt)
                .x_desc(self.x_title.as_str())
                .y_desc(self.y_title.as_str())
                .label_style(("sans-serif", 12))
                .axis_desc_style(("sans-serif", 13))
                .light_line_style(RGBAColor(0, 0, 0, 0.0))
                .draw()
                .map_err(|e| e.to_string())?;
            match self.kind {
                Kind::Lines => {
                    for (s, c) in colours {
                        let colour = RGBColor(c.0, c.1, c.2);
                        let mut segment: Vec<(f64, f64)> = Vec::new();
                        let mut segments = Vec::new();
                        for (i, v) in s.values.iter().enumerate() {
                            match v {
                                Some(v) => segment.push((i as f64, *v)),
                                None => segments.push(std::mem::take(&mut segment)),
                            }
                        }
                        segments.push(segment);
                        for seg in segments.iter().filter(|s| s.len() > 1) {
                            chart
                                .draw_series(LineSeries::new(
                                    seg.iter().copied(),
                                    colour.stroke_width(2),
                                ))
                                .map_err(|e| e.to_string())?;
                        }
                        // A dot per value while they are few; beyond that
                        // only where a value stands alone (no line shows it),
                        // so the page stays small whatever the span.
                        let dots = segments
                            .iter()
                            .filter(|s| n <= MAX_DOTS || s.len() == 1)
                            .flatten()
                            .map(|p| Circle::new(*p, 3, colour.filled()));
                        chart.draw_series(dots).map_err(|e| e.to_string())?;
                    }
                }
                Kind::Bars => {
                    let k = colours.len().max(1) as f64;
                    let w = 0.8 / k;
                    for (j, (s, c)) in colours.iter().enumerate() {
                        let colour = RGBColor(c.0, c.1, c.2);
                        let left = -0.4 + j as f64 * w;
                        chart
                            .draw_series(s.values.iter().enumerate().filter_map(|(i, v)| {
                                let v = (*v)?;
                                (v > 0.0).then(|| {
                                    Rectangle::new(
                                        [(i as f64 + left, 0.0), (i as f64 + left + w, v)],
                                        colour.filled(),
                                    )
                                })
                            }))
                            .map_err(|e| e.to_string())?;
                    }
                }
                Kind::Shares => {
                    let totals: Vec<f64> = (0..n)
                        .map(|i| {
                            self.series
                                .iter()
                                .filter_map(|s| s.values.get(i).copied().flatten())
                                .sum()
                        })
                        .collect();
                    let mut base = vec![0.0f64; n];
                    for (s, c) in colours {
                        let colour = RGBColor(c.0, c.1, c.2);
                        let mut rects = Vec::new();
                        for (i, v) in s.values.iter().enumerate() {
                            let (Some(v), Some(t)) = (v, totals.get(i)) else {
                                continue;
                            };
                            if *v <= 0.0 || *t <= 0.0 {
                                continue;
                            }
                            let share = v / t * 100.0;
                            let b = base[i];
                            rects.push(Rectangle::new(
                                [(i as f64 - 0.4, b), (i as f64 + 0.4, b + share)],
                                colour.filled(),
                            ));
                            base[i] = b + share;
                        }
                        chart.draw_series(rects).map_err(|e| e.to_string())?;
                    }
                }
            }
            root.present().map_err(|e| e.to_string())?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(kind: Kind, values: Vec<Option<f64>>) -> Chart {
        Chart {
            id: "test",
            title: "T".into(),
            note: "n".into(),
            x_title: "x".into(),
            y_title: "y".into(),
            x_labels: (0..values.len()).map(|i| i.to_string()).collect(),
            series: vec![Series {
                name: "a".into(),
                values,
            }],
            kind,
        }
    }

    fn marks(html: &str, colour: &str) -> usize {
        html.to_ascii_lowercase().matches(colour).count()
    }

    #[test]
    fn every_kind_of_chart_draws_its_values_in_the_series_colour() {
        for kind in [Kind::Lines, Kind::Bars, Kind::Shares] {
            let h = chart(kind, vec![Some(3.0), None, Some(5.0), Some(1.0)]).html();
            assert!(h.contains("<svg"), "{kind:?}");
            assert!(h.contains("data-colors=\"#1f77b4\""), "{kind:?}: {h}");
            // The legend swatch is one; the data add more.
            assert!(marks(&h, "#1f77b4") > 1, "{kind:?}");
        }
    }

    #[test]
    fn a_chart_without_data_lists_no_colour_and_says_so() {
        let h = chart(Kind::Bars, vec![None, Some(0.0)]).html();
        assert!(h.contains("data-colors=\"\""));
        assert!(h.contains("no data in this view"));
        assert_eq!(marks(&h, "#1f77b4"), 1, "only the legend swatch");
    }
}
