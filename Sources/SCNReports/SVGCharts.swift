import Foundation

/// Small self-contained SVG charts for run reports.
public enum SVGChart {
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    static func format(_ v: Double) -> String {
        abs(v) >= 100 ? String(format: "%.0f", v) : abs(v) >= 1 ? String(format: "%.2g", v) : String(format: "%.3g", v)
    }

    /// Lines of `(x, y)` points on shared axes, with a legend.
    public static func lines(title: String, xLabel: String, series: [(name: String, points: [(Double, Double)])],
                             width: Int = 520, height: Int = 300) -> String {
        let all = series.flatMap(\.points)
        guard !all.isEmpty else { return "<svg xmlns='http://www.w3.org/2000/svg' width='\(width)' height='40'><text x='10' y='25'>\(escape(title)): no data</text></svg>" }
        let (left, right, top, bottom) = (55.0, 15.0, 30.0, 40.0)
        var (x0, x1) = (all.map(\.0).min()!, all.map(\.0).max()!)
        var (y0, y1) = (all.map(\.1).min()!, all.map(\.1).max()!)
        if x1 == x0 { x0 -= 1; x1 += 1 }
        if y1 == y0 { y0 -= 1; y1 += 1 }
        let pw = Double(width) - left - right, ph = Double(height) - top - bottom
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * pw }
        func py(_ y: Double) -> Double { top + (1 - (y - y0) / (y1 - y0)) * ph }
        var svg = "<svg xmlns='http://www.w3.org/2000/svg' width='\(width)' height='\(height)' font-family='sans-serif' font-size='11'>"
        svg += "<text x='\(width / 2)' y='16' text-anchor='middle' font-size='13'>\(escape(title))</text>"
        svg += "<rect x='\(left)' y='\(top)' width='\(pw)' height='\(ph)' fill='none' stroke='#999'/>"
        for i in 0...4 {
            let y = y0 + (y1 - y0) * Double(i) / 4, x = x0 + (x1 - x0) * Double(i) / 4
            svg += "<text x='\(left - 4)' y='\(py(y) + 4)' text-anchor='end'>\(format(y))</text>"
            svg += "<line x1='\(left)' x2='\(left + pw)' y1='\(py(y))' y2='\(py(y))' stroke='#eee'/>"
            svg += "<text x='\(px(x))' y='\(top + ph + 14)' text-anchor='middle'>\(format(x))</text>"
        }
        svg += "<text x='\(left + pw / 2)' y='\(height - 6)' text-anchor='middle'>\(escape(xLabel))</text>"
        for (i, s) in series.enumerated() {
            let color = palette[i % palette.count]
            let path = s.points.map { "\(px($0.0)),\(py($0.1))" }.joined(separator: " ")
            svg += "<polyline fill='none' stroke='\(color)' stroke-width='2' points='\(path)'/>"
            for p in s.points where s.points.count <= 60 { svg += "<circle cx='\(px(p.0))' cy='\(py(p.1))' r='2.5' fill='\(color)'/>" }
            svg += "<rect x='\(left + 8)' y='\(top + 6 + Double(i) * 15)' width='10' height='10' fill='\(color)'/>"
            svg += "<text x='\(left + 22)' y='\(top + 15 + Double(i) * 15)'>\(escape(s.name))</text>"
        }
        return svg + "</svg>"
    }

    /// Vertical bars with labels.
    public static func bars(title: String, labels: [String], values: [Double], width: Int = 520, height: Int = 260) -> String {
        let maximum = max(values.max() ?? 1, 1e-9)
        let (left, top, bottom) = (45.0, 30.0, 40.0)
        let pw = Double(width) - left - 10, ph = Double(height) - top - bottom
        let barWidth = pw / Double(max(values.count, 1))
        var svg = "<svg xmlns='http://www.w3.org/2000/svg' width='\(width)' height='\(height)' font-family='sans-serif' font-size='11'>"
        svg += "<text x='\(width / 2)' y='16' text-anchor='middle' font-size='13'>\(escape(title))</text>"
        for (i, v) in values.enumerated() {
            let h = v / maximum * ph, x = left + Double(i) * barWidth
            svg += "<rect x='\(x + 2)' y='\(top + ph - h)' width='\(max(1, barWidth - 4))' height='\(h)' fill='\(palette[0])'/>"
            svg += "<text x='\(x + barWidth / 2)' y='\(top + ph - h - 3)' text-anchor='middle'>\(format(v))</text>"
            svg += "<text x='\(x + barWidth / 2)' y='\(top + ph + 14)' text-anchor='middle'>\(escape(labels[i]))</text>"
        }
        return svg + "</svg>"
    }

    /// A confusion matrix as a heat map (rows: true class, columns: predicted), with counts.
    public static func confusionMatrix(_ matrix: [[Int]], classNames: [String], title: String = "Confusion matrix") -> String {
        let n = classNames.count, cell = 44.0, left = 90.0, top = 90.0
        let width = Int(left + cell * Double(n) + 20), height = Int(top + cell * Double(n) + 20)
        var svg = "<svg xmlns='http://www.w3.org/2000/svg' width='\(width)' height='\(height)' font-family='sans-serif' font-size='11'>"
        svg += "<text x='\(width / 2)' y='16' text-anchor='middle' font-size='13'>\(escape(title)) (rows: true, columns: predicted)</text>"
        for (j, name) in classNames.enumerated() {
            svg += "<text transform='translate(\(left + cell * Double(j) + cell / 2),\(top - 6)) rotate(-45)'>\(escape(name))</text>"
            svg += "<text x='\(left - 6)' y='\(top + cell * Double(j) + cell / 2 + 4)' text-anchor='end'>\(escape(name))</text>"
        }
        for i in 0..<n {
            let total = max(1, matrix[i].reduce(0, +))
            for j in 0..<n {
                let share = Double(matrix[i][j]) / Double(total)
                let shade = Int(255 - 200 * share)
                svg += "<rect x='\(left + cell * Double(j))' y='\(top + cell * Double(i))' width='\(cell)' height='\(cell)' fill='rgb(\(shade),\(shade),255)' stroke='#fff'/>"
                svg += "<text x='\(left + cell * Double(j) + cell / 2)' y='\(top + cell * Double(i) + cell / 2 + 4)' text-anchor='middle' fill='\(share > 0.5 ? "#fff" : "#000")'>\(matrix[i][j])</text>"
            }
        }
        return svg + "</svg>"
    }
}
