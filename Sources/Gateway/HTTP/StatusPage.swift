import Foundation
/// The status page at `/`: one self-contained HTML document (no external assets, no CDN) whose
/// small script reads the API every 5 s and draws the last hour as inline SVG charts. With an API
/// token, open the page as `/#token=<token>`.
enum StatusPage {
  static func html(gateway: String) -> String {
    let escaped = gateway.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    return template.replacingOccurrences(of: "{{GATEWAY}}", with: escaped)
  }

  static let template = #"""
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
    <title>Weir · {{GATEWAY}}</title>
    <style>
    :root{--bg:#0f1419;--panel:#182029;--text:#e6e9ec;--muted:#8b98a5;--accent:#4fb3ff;--ok:#3fb950;--warn:#d29922;--bad:#f85149}
    *{box-sizing:border-box}body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--text)}
    header{display:flex;align-items:baseline;gap:16px;padding:14px 22px;border-bottom:1px solid #26313c}
    header h1{font-size:18px;margin:0}header .muted{color:var(--muted)}
    .badge{padding:2px 8px;border-radius:10px;font-size:12px;font-weight:600}
    .ok{background:#1f3b27;color:var(--ok)}.bad{background:#3d1f22;color:var(--bad)}.warn{background:#3b3320;color:var(--warn)}
    main{padding:18px 22px;display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px}
    section{background:var(--panel);border-radius:8px;padding:14px 16px}
    section h2{font-size:13px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);margin:0 0 10px}
    .figures{display:flex;gap:26px;flex-wrap:wrap}.fig b{display:block;font-size:24px;font-weight:600}.fig span{color:var(--muted);font-size:12px}
    table{width:100%;border-collapse:collapse;font-size:13px}td,th{padding:4px 6px;text-align:left;border-bottom:1px solid #26313c}
    th{color:var(--muted);font-weight:500}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
    svg{width:100%;height:150px;display:block}svg text{fill:var(--muted);font-size:10px}
    .legend span{margin-right:12px;font-size:12px}.legend i{display:inline-block;width:10px;height:3px;margin-right:4px;vertical-align:middle}
    #error{color:var(--bad)}
    </style></head>
    <body>
    <header><h1>Weir</h1><span class="muted">gateway <b id="gw">{{GATEWAY}}</b></span><span id="ready" class="badge">…</span>
    <span class="muted" id="uptime"></span><span id="error"></span></header>
    <main>
    <section style="grid-column:1/-1"><h2>Now</h2><div class="figures">
    <div class="fig"><b id="rate">–</b><span>records/s in</span></div>
    <div class="fig"><b id="records">–</b><span>records since start</span></div>
    <div class="fig"><b id="forwarded">–</b><span>confirmed upstream</span></div>
    <div class="fig"><b id="lag">–</b><span>uplink lag (records)</span></div>
    <div class="fig"><b id="active">–</b><span>active alerts</span></div>
    <div class="fig"><b id="dead">–</b><span>dead letters</span></div>
    <div class="fig"><b id="logsize">–</b><span>log on disk</span></div>
    </div></section>
    <section><h2>Ingest rate, last hour</h2><svg id="chart-rate" viewBox="0 0 600 150" preserveAspectRatio="none"></svg></section>
    <section><h2>Uplink lag, last hour</h2><svg id="chart-lag" viewBox="0 0 600 150" preserveAspectRatio="none"></svg><div class="legend" id="lag-legend"></div></section>
    <section><h2>Alerts, last hour</h2><svg id="chart-alerts" viewBox="0 0 600 150" preserveAspectRatio="none"></svg></section>
    <section><h2>Active alerts</h2><table id="alerts"><thead><tr><th>rule</th><th>key</th><th>severity</th><th>since</th><th>message</th></tr></thead><tbody></tbody></table></section>
    <section><h2>Uplinks</h2><table id="uplinks"><thead><tr><th>name</th><th>state</th><th class="num">sent</th><th class="num">confirmed</th><th class="num">lag</th><th class="num">errors</th></tr></thead><tbody></tbody></table></section>
    <section><h2>Sources</h2><table id="sources"><thead><tr><th>source</th><th>kind</th><th>state</th><th class="num">records</th></tr></thead><tbody></tbody></table></section>
    </main>
    <script>
    "use strict";
    const token = (location.hash.match(/token=([^&]+)/) || [])[1];
    const colors = ["#4fb3ff", "#f0883e", "#a371f7", "#3fb950", "#db61a2", "#d29922"];
    async function get(path) {
      const r = await fetch(path, {headers: token ? {Authorization: "Bearer " + decodeURIComponent(token)} : {}});
      if (!r.ok) throw new Error(path + ": HTTP " + r.status);
      return r.json();
    }
    const fmt = n => n >= 1e9 ? (n / 1e9).toFixed(2) + "G" : n >= 1e6 ? (n / 1e6).toFixed(2) + "M" : n >= 1e4 ? (n / 1e3).toFixed(1) + "k" : String(Math.round(n));
    const bytes = n => n >= 1 << 30 ? (n / (1 << 30)).toFixed(2) + " GiB" : n >= 1 << 20 ? (n / (1 << 20)).toFixed(1) + " MiB" : (n / 1024).toFixed(0) + " KiB";
    const esc = s => String(s ?? "").replace(/[&<>"]/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));
    function axes(svg, max, t0, t1) {
      let out = "";
      for (let i = 0; i <= 3; i++) {
        const y = 140 - i * 40;
        out += `<line x1="40" x2="600" y1="${y}" y2="${y}" stroke="#26313c"/><text x="36" y="${y + 3}" text-anchor="end">${fmt(max * i / 3)}</text>`;
      }
      const mins = Math.round((t1 - t0) / 60000);
      out += `<text x="44" y="150">-${mins} min</text><text x="598" y="150" text-anchor="end">now</text>`;
      return out;
    }
    function lines(id, series, t0, t1) {
      const svg = document.getElementById(id);
      let max = 1;
      for (const s of series) for (const p of s.points) max = Math.max(max, p[1]);
      max = Math.max(3, Math.ceil(max * 1.1));
      const span = Math.max(1, t1 - t0);
      let out = axes(svg, max, t0, t1);
      series.forEach((s, i) => {
        if (!s.points.length) return;
        const d = s.points.map((p, j) => (j ? "L" : "M") + (40 + 560 * (p[0] - t0) / span).toFixed(1) + " " + (140 - 120 * p[1] / max).toFixed(1)).join(" ");
        out += `<path d="${d}" fill="none" stroke="${colors[i % colors.length]}" stroke-width="2"><title>${esc(s.name)}</title></path>`;
      });
      svg.innerHTML = out;
    }
    function bars(id, points, t0, t1) {
      const svg = document.getElementById(id);
      let max = 1;
      for (const p of points) max = Math.max(max, p[1]);
      max = Math.max(3, max);
      const span = Math.max(1, t1 - t0);
      let out = axes(svg, max, t0, t1);
      for (const p of points) {
        if (!p[1]) continue;
        const h = 120 * p[1] / max, x = 40 + 560 * (p[0] - t0) / span;
        out += `<rect x="${(x - 2).toFixed(1)}" y="${(140 - h).toFixed(1)}" width="4" height="${h.toFixed(1)}" fill="#f85149"><title>${p[1]} alerts</title></rect>`;
      }
      svg.innerHTML = out;
    }
    function rows(id, html) { document.querySelector("#" + id + " tbody").innerHTML = html || '<tr><td colspan="6" style="color:#8b98a5">none</td></tr>'; }
    async function refresh() {
      try {
        const [status, history, alerts] = await Promise.all([get("/api/v1/status"), get("/api/v1/history"), get("/api/v1/alerts?limit=20")]);
        document.getElementById("error").textContent = "";
        const ready = document.getElementById("ready");
        ready.textContent = status.ready ? "ready" : "not ready";
        ready.className = "badge " + (status.ready ? "ok" : "bad");
        ready.title = status.not_ready.join("\n");
        document.getElementById("uptime").textContent = "up " + Math.floor(status.uptime_seconds / 60) + " min · v" + status.version;
        document.getElementById("rate").textContent = fmt(status.ingest.records_per_second);
        document.getElementById("records").textContent = fmt(status.ingest.records);
        document.getElementById("forwarded").textContent = fmt(status.uplinks.reduce((a, u) => a + u.acked_records, 0));
        document.getElementById("lag").textContent = fmt(status.uplinks.reduce((a, u) => a + u.lag_records, 0));
        document.getElementById("active").textContent = alerts.active.length;
        document.getElementById("dead").textContent = fmt(status.ingest.dead_letters);
        document.getElementById("logsize").textContent = bytes(status.log.bytes);
        const pts = history.points, t1 = pts.length ? pts[pts.length - 1].time_ms : Date.now(), t0 = Math.min(pts.length ? pts[0].time_ms : t1, t1 - 60000);
        lines("chart-rate", [{name: "records/s", points: pts.map(p => [p.time_ms, p.records_per_second])}], t0, t1);
        const names = [...new Set(pts.flatMap(p => p.lag.map(l => l.name)))];
        lines("chart-lag", names.map(n => ({name: n, points: pts.filter(p => p.lag.some(l => l.name === n)).map(p => [p.time_ms, p.lag.find(l => l.name === n).value])})), t0, t1);
        document.getElementById("lag-legend").innerHTML = names.map((n, i) => `<span><i style="background:${colors[i % colors.length]}"></i>${esc(n)}</span>`).join("");
        bars("chart-alerts", pts.map(p => [p.time_ms, p.alerts_raised]), t0, t1);
        rows("alerts", alerts.active.map(a => `<tr><td>${esc(a.rule)}</td><td>${esc(a.key)}</td><td><span class="badge ${a.severity === "critical" ? "bad" : "warn"}">${esc(a.severity)}</span></td><td>${new Date(a.timestamp_ms).toLocaleTimeString()}</td><td>${esc(a.message)}</td></tr>`).join(""));
        rows("uplinks", status.uplinks.map(u => `<tr><td>${esc(u.name)} <span class="muted">${esc(u.kind)}</span></td><td><span class="badge ${u.connected ? "ok" : "bad"}">${esc(u.state)}</span></td><td class="num">${fmt(u.sent_records)}</td><td class="num">${fmt(u.acked_records)}</td><td class="num">${fmt(u.lag_records)}</td><td class="num">${fmt(u.errors)}</td></tr>`).join(""));
        rows("sources", status.sources.map(s => `<tr><td>${esc(s.name)}</td><td>${esc(s.kind)}</td><td><span class="badge ${s.connected ? "ok" : "bad"}">${s.connected ? "connected" : "down"}</span></td><td class="num">${fmt(s.records)}</td></tr>`).join(""));
        document.body.dataset.loaded = "1";
      } catch (e) {
        document.getElementById("error").textContent = e.message;
      }
    }
    refresh();
    setInterval(refresh, 5000);
    </script>
    </body></html>
    """#
}
