import Foundation

/// Renders a `RunReport` as one self-contained HTML page with inline SVG charts
/// (latency CDF per tier, requests per second, p50/p99 per second).
public enum ReportHTML {
    static let colors = ["warm": "#2e7d32", "import": "#1565c0", "fresh": "#ef6c00", "install": "#c62828",
                         "overall": "#000000", "error": "#9e9e9e", "unknown": "#6a1b9a"]

    public static func render(_ report: RunReport) -> String {
        let summaryRows = (report.tiers.sorted { $0.key < $1.key } + [("overall", report.overall)]).map { name, s in
            "<tr><td>\(escape(name))</td><td>\(s.count)</td>" + [s.p50Ms, s.p90Ms, s.p99Ms, s.p999Ms, s.maxMs]
                .map { String(format: "<td>%.2f</td>", $0) }.joined() + "</tr>"
        }.joined(separator: "\n")
        let errors = report.errors.isEmpty ? "" :
            "<p>Errors: " + report.errors.sorted { $0.key < $1.key }.map { "\(escape($0.key)) ×\($0.value)" }.joined(separator: ", ") + "</p>"
        let series = report.timeSeries
        return """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>PipBench run</title>
            <style>body{font-family:sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}svg{display:block;margin:1em 0}</style>
            </head><body>
            <h1>PipBench run</h1>
            <p>Worker \(escape(report.workerURL)), \(report.handlers) handlers, mode \(report.mode)\(report.rate.map { String(format: " at %.1f req/s", $0) } ?? "")\(report.concurrency.map { ", concurrency \($0)" } ?? ""), started \(ISO8601DateFormatter().string(from: report.startedAt)).
            \(report.requests) requests in \(String(format: "%.1f", report.durationSeconds)) s (\(String(format: "%.1f", report.throughput)) req/s)\(report.interrupted ? ", interrupted" : "").</p>
            <table><tr><th>tier</th><th>count</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th></tr>
            \(summaryRows)
            </table>
            \(errors)
            <h2>Latency CDF by start tier</h2>
            \(cdfChart(report.cdf))
            <h2>Requests per second</h2>
            \(lineChart(series: [("requests", "#1565c0", series.map { (Double($0.second), Double($0.requests)) })], yLabel: "req/s"))
            <h2>Latency per second</h2>
            \(lineChart(series: [("p50", "#2e7d32", series.map { (Double($0.second), $0.p50Ms) }),
                                 ("p99", "#c62828", series.map { (Double($0.second), $0.p99Ms) })], yLabel: "ms"))
            </body></html>

            """
    }

    static let width = 720.0, height = 320.0, margin = 50.0

    /// CDF with a logarithmic latency axis.
    static func cdfChart(_ cdf: [String: [RunReport.CDFPoint]]) -> String {
        let all = cdf.values.flatMap { $0 }.map(\.ms).filter { $0 > 0 }
        guard let lo = all.min(), let hi = all.max() else { return "<p>No requests.</p>" }
        let lx = log10(max(lo, 0.001)), hx = max(log10(hi), lx + 1)
        func x(_ ms: Double) -> Double { margin + (log10(max(ms, 0.001)) - lx) / (hx - lx) * (width - 2 * margin) }
        func y(_ f: Double) -> Double { height - margin - f * (height - 2 * margin) }
        var svg = frame(xLabel: "latency (ms, log scale)", yLabel: "fraction of requests")
        for decade in Int(floor(lx))...Int(ceil(hx)) {
            let v = pow(10, Double(decade))
            guard v >= pow(10, lx) * 0.999, v <= pow(10, hx) * 1.001 else { continue }
            svg += tick(x: x(v), label: v >= 1 ? String(format: "%.0f", v) : String(format: "%g", v))
        }
        for f in stride(from: 0.0, through: 1.0, by: 0.25) { svg += ytick(y: y(f), label: String(format: "%.2f", f)) }
        for (i, (name, points)) in cdf.sorted(by: { $0.key < $1.key }).enumerated() {
            let color = colors[name] ?? "#555"
            let path = points.map { String(format: "%.1f,%.1f", x($0.ms), y($0.fraction)) }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(path)\"/>"
            svg += legend(i, name, color)
        }
        return svg + "</svg>"
    }

    static func lineChart(series: [(String, String, [(Double, Double)])], yLabel: String) -> String {
        let xs = series.flatMap { $0.2.map(\.0) }, ys = series.flatMap { $0.2.map(\.1) }
        guard let maxX = xs.max(), let maxY = ys.max() else { return "<p>No data.</p>" }
        let top = max(maxY, 1e-9) * 1.1, right = max(maxX, 1)
        func x(_ v: Double) -> Double { margin + v / right * (width - 2 * margin) }
        func y(_ v: Double) -> Double { height - margin - v / top * (height - 2 * margin) }
        var svg = frame(xLabel: "seconds since start", yLabel: yLabel)
        for i in 0...4 {
            let v = top * Double(i) / 4
            svg += ytick(y: y(v), label: String(format: v < 10 ? "%.1f" : "%.0f", v))
            let s = right * Double(i) / 4
            svg += tick(x: x(s), label: String(format: "%.0f", s))
        }
        for (i, (name, color, points)) in series.enumerated() {
            let path = points.map { String(format: "%.1f,%.1f", x($0.0), y($0.1)) }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(path)\"/>" + legend(i, name, color)
        }
        return svg + "</svg>"
    }

    static func frame(xLabel: String, yLabel: String) -> String {
        let w = Int(width), h = Int(height), m = Int(margin)
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(w)\" height=\"\(h)\" viewBox=\"0 0 \(w) \(h)\" font-size=\"11\">"
            + "<rect x=\"\(m)\" y=\"\(m)\" width=\"\(w - 2 * m)\" height=\"\(h - 2 * m)\" fill=\"none\" stroke=\"#999\"/>"
            + "<text x=\"\(w / 2)\" y=\"\(h - 8)\" text-anchor=\"middle\">\(escape(xLabel))</text>"
            + "<text x=\"12\" y=\"\(h / 2)\" transform=\"rotate(-90 12 \(h / 2))\" text-anchor=\"middle\">\(escape(yLabel))</text>"
    }

    static func tick(x: Double, label: String) -> String {
        String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>", x, margin, x, height - margin)
            + String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x, height - margin + 14) + escape(label) + "</text>"
    }

    static func ytick(y: Double, label: String) -> String {
        String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>", margin, y, width - margin, y)
            + String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", margin - 4, y + 4) + escape(label) + "</text>"
    }

    static func legend(_ i: Int, _ name: String, _ color: String) -> String {
        let y = margin + 14 + Double(i) * 14
        return String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" fill=\"%@\"/>", width - margin - 80, y - 9, color)
            + String(format: "<text x=\"%.1f\" y=\"%.1f\">", width - margin - 66, y) + escape(name) + "</text>"
    }

    static func escape(_ s: String) -> String { SimpleIndex.escape(s) }
}
