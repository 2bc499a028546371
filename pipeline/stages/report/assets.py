"""The report page's inline CSS, its JavaScript (filters, evidence panel; no libraries) and Content-Security-Policy."""

CSP = ("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; "
       "form-action 'none'; base-uri 'none'")

CSS = """
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#1f2328;
background:#fff}
main{max-width:1440px;margin:0 auto;padding:14px 22px 48px}
body.panel-open .mwrap,body.panel-open .mh{margin-right:var(--pr)}
body.panel-open .filters{padding-right:var(--pr)}
:root{--pr:max(0px,calc(430px - (100vw - min(100vw,1440px))/2))}  /* the panel's width over main's padding */
h1{font-size:21px;margin:0 0 2px} h2{font-size:17px;margin:18px 0 2px}
h3{font-size:12px;margin:0 0 4px;text-transform:uppercase;letter-spacing:.04em;color:#57606a}
a{color:#0b57d0} .muted{color:#6e7781} .hint{margin:-2px 0 6px;color:#6e7781;font-size:12px}
header .muted{margin:0 0 6px;font-size:12px}
.legend{font-size:12px;margin:0 0 8px} .legend summary{cursor:pointer} .legend ul{margin:6px 0;padding-left:18px}
.legend li{margin:3px 0}
.chip{display:inline-block;border:1px solid;border-radius:4px;padding:0 6px;font-weight:600;font-size:12px;
white-space:nowrap}
.chip.unc{border-style:dashed;border-width:2px}
.summary{display:grid;grid-template-columns:minmax(380px,1.25fr) 1fr 1fr;gap:12px;margin:8px 0 12px;
align-items:start}
.card{border:1px solid #d8dee4;border-radius:6px;padding:8px 12px;background:#fcfcfd;min-width:0}
.card ul{margin:0;padding-left:16px;font-size:13px} .card li{margin:0 0 5px}
.card li a{color:#1f2328;text-decoration:none} .card li a:hover{text-decoration:underline}
.who{font-size:12px;color:#57606a}
.more summary{cursor:pointer;font-size:12px;color:#0b57d0}
.bars{display:grid;grid-template-columns:minmax(60px,max-content) 1fr;gap:6px 10px;align-items:center;
font-size:12px}
.oname{font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;max-width:170px}
.bar{display:block;border-radius:2px;width:100%;max-width:300px}
.nums{color:#57606a;font-variant-numeric:tabular-nums;font-size:11px;white-space:nowrap}
.n-agree,.t-agree{color:#1b5e20} .n-disagree,.t-disagree{color:#b71c1c} .n-discuss{color:#a84300}
.index{margin:6px 0 4px} .index h2{margin:0 0 4px} .story+.story{border-top:3px solid #d8dee4;margin-top:28px}
.up{font-size:12px;font-weight:400;margin-left:10px}
.index table{border-collapse:collapse;width:100%;font-size:13px} .index td,.index th{padding:3px 8px;
border-bottom:1px solid #eee;text-align:left} .num{text-align:right!important;font-variant-numeric:tabular-nums}
.filters{position:sticky;top:0;z-index:4;background:#fff;border-bottom:1px solid #d8dee4;padding:8px 0;margin:4px 0 0;
display:flex;gap:14px;flex-wrap:wrap;align-items:center;font-size:13px}
.filters .grow{flex:1 1 150px;display:flex;gap:6px;align-items:center} .filters input[type=search]{flex:1;
width:100px;padding:3px 6px} .filters select{padding:2px;max-width:190px}
.mh{margin:14px 0 4px} .count{text-transform:none;letter-spacing:0;font-weight:400;color:#6e7781;margin-left:8px}
table.matrix{border-collapse:separate;border-spacing:0;width:100%}
.matrix th{position:sticky;top:var(--fh,44px);z-index:2;background:#f6f8fa;border-bottom:1px solid #d0d7de;
padding:4px 4px;font-size:12px;text-align:center;vertical-align:bottom;line-height:1.2}
.matrix th.claim{text-align:left;padding-left:8px}
.aid{display:block;font-weight:400;color:#6e7781;font-size:11px}
.matrix td{border-bottom:1px solid #eaeef2;vertical-align:middle}
.matrix tbody tr:hover td{background:#f6f8fa}
.matrix tbody tr:target td{background:#fff8c5}
td.claim{padding:5px 8px;min-width:230px}
.cid{font:11px ui-monospace,"DejaVu Sans Mono",monospace;color:#6e7781;margin-right:2px}
.cmeta{font-size:11px;color:#6e7781;margin-top:1px}
.tag{border-radius:8px;padding:0 6px;font-weight:600}
.contested-tag{background:#ffebe9;color:#a40e26} .omission-tag{background:#fff1d6;color:#7d4e00}
td.c{padding:2px 3px;text-align:center;white-space:nowrap;width:1%}
.matrix th.col{width:1%;min-width:84px;max-width:130px;overflow-wrap:anywhere}
.lab{display:block;min-width:78px;border:1px solid transparent;border-radius:4px;padding:3px 4px;font-size:12px;
font-weight:600;cursor:pointer;text-decoration:none;position:relative}
.agree .lab,.chip.agree{background:#e6f4e8;color:#1b5e20;border-color:#9ccc9f}
.disagree .lab,.chip.disagree{background:#fde7e7;color:#b71c1c;border-color:#ef9a9a}
.discuss .lab,.chip.discuss{background:#fff1e0;color:#a84300;border-color:#ffbf80}
.unrelated .lab,.chip.unrelated{background:#f4f4f4;color:#6e6e6e;border-color:#dcdcdc}
td.none .lab{color:#999;font-weight:400;cursor:default}
.unc .lab{border:2px dashed currentColor;padding:2px 3px}
.q{font-size:10px;margin-left:1px}
.lab:hover{filter:brightness(.95)} .lab:focus-visible,.lab.sel{outline:3px solid #0b57d0;outline-offset:1px}
.hide,.colhide{display:none} td.dim .lab{opacity:.3}
.ev{display:none}
.ev.open,.ev:target{display:block;position:fixed;top:0;right:0;bottom:0;width:min(440px,100vw);overflow:auto;
background:#fff;border-left:1px solid #d0d7de;box-shadow:-6px 0 18px rgba(0,0,0,.12);padding:14px 18px 24px;
z-index:10;font-size:13px}
.ev .close{position:absolute;top:6px;right:12px;font-size:22px;text-decoration:none;color:#57606a}
.evclaim{font-weight:600;font-size:14px;margin-right:24px}
.ev h4{margin:12px 0 4px;font-size:12px;text-transform:uppercase;color:#57606a}
.probs{color:#57606a;font-size:12px;font-variant-numeric:tabular-nums}
.evl{padding-left:18px;margin:0} .evl li{margin:0 0 10px}
.para{margin:0;border-left:3px solid #d0d7de;padding-left:8px;color:#333}
.dec-li .para{border-left-color:#0b57d0}
mark{background:#fff3a3;padding:0 1px}
.nli{margin:2px 0 0;font-size:12px;color:#57606a;font-variant-numeric:tabular-nums}
.dec{color:#0b57d0}
@media screen{.summary .card{max-height:46vh;overflow:auto}}
@media (max-width:1000px){.summary{grid-template-columns:1fr} :root{--pr:0px}}
@media print{
.filters,.ev,.ev:target,.ev.open,.close,.more summary,.up{display:none!important}
.hide{display:table-row!important} .colhide{display:table-cell!important} td.dim .lab{opacity:1}
main{padding:0;max-width:none} :root{--pr:0px}
.matrix th{position:static}
body{font-size:11px} td.claim{min-width:0} .lab{min-width:0}
.summary{grid-template-columns:1.2fr 1fr 1fr}
tr,.card{break-inside:avoid}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"""

# Filters (label, outlet, contested, text search) and the evidence panel. No network, no libraries.
JS = r"""
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var fl = $("f-label"), fo = $("f-outlet"), fc = $("f-contested"), fq = $("f-q"), form = fl && fl.form;
  var bar = document.querySelector(".filters");
  function sticky() { if (bar) document.documentElement.style.setProperty("--fh", bar.offsetHeight + "px"); }
  function cellMatches(c, L, O) {
    if (O && c.getAttribute("data-outlet") !== O) return false;
    if (!L) return true;
    if (L === "uncertain") return c.classList.contains("unc");
    return c.getAttribute("data-label") === L;
  }
  function apply() {
    var L = fl.value, O = fo.value, C = fc.checked;
    var words = fq.value.toLowerCase().split(/\s+/).filter(Boolean);
    document.querySelectorAll("table.matrix").forEach(function (t) {
      t.querySelectorAll("[data-outlet]").forEach(function (c) {
        c.classList.toggle("colhide", !!O && c.getAttribute("data-outlet") !== O);
        if (c.tagName === "TD") c.classList.toggle("dim", !!L && !cellMatches(c, L, ""));
      });
      var rows = t.tBodies[0].rows, shown = 0;
      for (var i = 0; i < rows.length; i++) {
        var r = rows[i], ok = !C || r.getAttribute("data-contested") === "1";
        if (ok && words.length) {
          var c0 = r.cells[0], text = (c0.querySelector(".cid").textContent + " " +
                                       c0.querySelector(".ctext").textContent).toLowerCase();
          ok = words.every(function (w) { return text.indexOf(w) >= 0; });
        }
        if (ok && (L || O)) {
          ok = Array.prototype.some.call(r.querySelectorAll("td[data-outlet]"),
                                         function (c) { return cellMatches(c, L, O); });
        }
        r.classList.toggle("hide", !ok);
        if (ok) shown++;
      }
      var count = t.closest("section").querySelector(".count");
      if (count) count.textContent = shown + " of " + rows.length + " claims shown";
    });
  }
  var open = null, selected = null;
  function closePanel() {
    if (open) open.classList.remove("open");
    if (selected) selected.classList.remove("sel");
    open = selected = null;
    document.body.classList.remove("panel-open");
    sticky();
  }
  // a paragraph that an earlier panel of the story already holds is written once: copy it in when shown
  function fill(panel) {
    panel.querySelectorAll("p.para[data-same]").forEach(function (p) {
      var src = $(p.getAttribute("data-same"));
      if (src && !p.hasChildNodes()) p.innerHTML = src.innerHTML;
    });
  }
  function fillTarget() {
    if (location.hash.indexOf("#ev-") !== 0) return;
    var panel = $(decodeURIComponent(location.hash.slice(1)));
    if (panel) fill(panel);
  }
  function show(link) {
    var panel = $(link.getAttribute("data-ev"));
    if (!panel) return;
    fill(panel);
    closePanel();
    panel.classList.add("open");
    panel.scrollTop = 0;
    link.classList.add("sel");
    open = panel; selected = link;
    document.body.classList.add("panel-open");
    sticky();
    link.scrollIntoView({block: "nearest", inline: "nearest"});
  }
  document.addEventListener("click", function (e) {
    var t = e.target.closest ? e.target.closest("a") : null;
    if (!t) return;
    if (t.hasAttribute("data-ev")) { e.preventDefault(); show(t); }
    else if (t.hasAttribute("data-close")) {
      e.preventDefault(); closePanel();
      if (location.hash.indexOf("#ev-") === 0) history.replaceState(null, "", location.pathname + location.search);
    }
  });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") closePanel(); });
  window.addEventListener("hashchange", fillTarget);  // a link to a panel (#ev-...): CSS opens it, this fills it
  fillTarget();
  if (form) {
    [fl, fo, fc].forEach(function (x) { x.addEventListener("change", apply); });
    fq.addEventListener("input", apply);
    form.addEventListener("reset", function () { setTimeout(apply, 0); });
    form.addEventListener("submit", function (e) { e.preventDefault(); });  // Enter in the search box
    apply();
  }
  sticky();
  window.addEventListener("resize", sticky);
  // on paper: every list in full (the rows are all shown by the print styles)
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details.more").forEach(function (d) { d.open = true; });
  });
})();
"""
