"use strict";
(function () {
  const charts = JSON.parse(document.getElementById("report-charts").textContent);
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const T = data.table;
  const PAGE = 25;

  // Money stays the file's decimal text, grouped by thousands; weights are 0.0001 units.
  function group(text) {
    if (text === null || text === undefined) return "-";
    const negative = text.startsWith("-");
    const [whole, fraction] = (negative ? text.slice(1) : text).split(".");
    const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return (negative ? "-" : "") + grouped + (fraction !== undefined ? "." + fraction : "");
  }
  function pct(units) {
    return units === null || units === undefined ? "-" : (units / 100).toFixed(2) + "%";
  }
  function num(text) {
    return text === null ? null : parseFloat(text);
  }

  const rows = T.id.map((id, i) => ({
    index: i,
    id: id,
    status: T.statuses[T.status[i]],
    approval: T.approval ? T.approvals[T.approval[i]] : "",
    marketValue: num(T.marketValue[i]),
    mvText: group(T.marketValue[i]),
    turnover: num(T.turnover[i]),
    turnoverText: group(T.turnover[i]),
    orders: T.buys[i] + T.sells[i],
    ordersText: T.buys[i] + " / " + T.sells[i],
    before: T.before[i],
    after: T.after[i],
    cashAfter: num(T.cashAfter[i]),
    cashText: group(T.cashAfter[i]),
    message: T.messages[T.message[i]],
  }));

  function draw(element, spec, canvas) {
    return vegaEmbed(element, spec, { renderer: canvas ? "canvas" : "svg", actions: false })
      .then(() => { element.dataset.drawn = "true"; })
      .catch((error) => { element.dataset.drawn = "failed"; console.error(error); });
  }

  for (const [key, chart] of Object.entries(charts)) {
    const spec = chart.spec;
    if (spec.data && spec.data.name === "portfolios") spec.datasets = { portfolios: rows };
    const element = document.getElementById("chart-" + key);
    draw(element, spec, chart.canvas).then(() => {
      const view = element.querySelector("svg, canvas");
      if (view) view.setAttribute("aria-label", spec.title + ". " + spec.description);
    });
  }

  // The per-portfolio table: sorted, filtered and paged here, 25 rows at a time.
  const columns = [
    { key: "id", label: "portfolio" },
    { key: "status", label: "status" },
    ...(T.approval ? [{ key: "approval", label: "approval" }] : []),
    { key: "marketValue", label: "market value", show: "mvText", num: true },
    { key: "turnover", label: "turnover", show: "turnoverText", num: true },
    { key: "orders", label: "orders (buy / sell)", show: "ordersText", num: true },
    { key: "before", label: "worst drift before", show: (r) => pct(r.before), num: true },
    { key: "after", label: "worst drift after", show: (r) => pct(r.after), num: true },
    { key: "cashAfter", label: "cash after", show: "cashText", num: true },
    { key: "message", label: "message" },
  ];
  const state = { sort: null, descending: false, text: "", status: "", page: 0, selected: null };
  const table = document.getElementById("portfolio-table");
  const pager = document.getElementById("pager");
  const controls = document.getElementById("table-controls");

  const search = document.createElement("input");
  search.type = "search";
  search.placeholder = "portfolio id or message";
  search.setAttribute("aria-label", "Filter portfolios by id or message");
  const statusSelect = document.createElement("select");
  statusSelect.setAttribute("aria-label", "Filter portfolios by status");
  for (const value of ["", ...T.statuses, ...T.approvals.filter((a) => a)]) {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = value || "every status";
    statusSelect.append(option);
  }
  const found = document.createElement("span");
  found.setAttribute("aria-live", "polite");
  controls.append(search, statusSelect, found);
  search.addEventListener("input", () => { state.text = search.value.toLowerCase(); state.page = 0; render(); });
  statusSelect.addEventListener("change", () => { state.status = statusSelect.value; state.page = 0; render(); });

  function shown() {
    let list = rows.filter((r) =>
      (!state.status || r.status === state.status || r.approval === state.status) &&
      (!state.text || r.id.toLowerCase().includes(state.text) || r.message.toLowerCase().includes(state.text)));
    if (state.sort) {
      const key = state.sort, sign = state.descending ? -1 : 1;
      list = list.slice().sort((a, b) => {
        const x = a[key], y = b[key];
        if (x === y) return a.index - b.index;
        if (x === null) return 1;
        if (y === null) return -1;
        return (x < y ? -1 : 1) * sign;
      });
    }
    return list;
  }

  function cell(row, column) {
    const td = document.createElement("td");
    if (column.key === "id") {
      const button = document.createElement("button");
      button.className = "portfolio-link";
      button.textContent = row.id;
      button.title = "Show the drifts of " + row.id;
      button.addEventListener("click", () => openDrill(row));
      td.append(button);
      return td;
    }
    if (column.num) td.className = "num";
    if (column.key === "message") {
      const clip = document.createElement("div");
      clip.className = "message";
      clip.title = row.message;
      clip.textContent = row.message;
      td.append(clip);
      return td;
    }
    const show = column.show;
    td.textContent = typeof show === "function" ? show(row) : show ? row[show] : row[column.key];
    return td;
  }

  function render() {
    const list = shown();
    const pages = Math.max(1, Math.ceil(list.length / PAGE));
    state.page = Math.min(state.page, pages - 1);
    table.replaceChildren();
    const caption = document.createElement("caption");
    caption.textContent = `Portfolios: ${list.length.toLocaleString("en-US")} of ${rows.length.toLocaleString("en-US")}`;
    const head = document.createElement("tr");
    for (const column of columns) {
      const th = document.createElement("th");
      th.scope = "col";
      if (column.num) th.className = "num";
      const button = document.createElement("button");
      const sorted = state.sort === column.key;
      button.textContent = column.label + (sorted ? (state.descending ? " ▼" : " ▲") : "");
      th.setAttribute("aria-sort", sorted ? (state.descending ? "descending" : "ascending") : "none");
      button.addEventListener("click", () => {
        state.descending = sorted ? !state.descending : Boolean(column.num);
        state.sort = column.key;
        render();
      });
      th.append(button);
      head.append(th);
    }
    const thead = document.createElement("thead");
    thead.append(head);
    const tbody = document.createElement("tbody");
    for (const row of list.slice(state.page * PAGE, (state.page + 1) * PAGE)) {
      const tr = document.createElement("tr");
      if (state.selected === row.index) tr.className = "selected";
      for (const column of columns) tr.append(cell(row, column));
      tbody.append(tr);
    }
    table.append(caption, thead, tbody);
    found.textContent = `${list.length.toLocaleString("en-US")} shown`;
    pager.replaceChildren();
    const previous = document.createElement("button");
    previous.textContent = "previous";
    previous.disabled = state.page === 0;
    previous.addEventListener("click", () => { state.page -= 1; render(); });
    const next = document.createElement("button");
    next.textContent = "next";
    next.disabled = state.page >= pages - 1;
    next.addEventListener("click", () => { state.page += 1; render(); });
    const where = document.createElement("span");
    where.textContent = `page ${state.page + 1} of ${pages}`;
    pager.append(previous, where, next);
  }
  render();

  // The drill-down: the compact table is inflated once, when first asked for.
  let columnsPromise = null;
  function drillColumns() {
    if (!columnsPromise) {
      const bytes = Uint8Array.from(atob(data.drill.data), (c) => c.charCodeAt(0));
      const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
      columnsPromise = new Response(stream).arrayBuffer().then((buffer) => {
        // Four columns one after another: counts (one per portfolio), then security,
        // before and after (one per drift), each of 1, 2 or 4 bytes a value.
        const types = { 1: Int8Array, 2: Int16Array, 4: Int32Array };
        const sizes = data.drill.dtypes;
        const n = rows.length;
        const total = (buffer.byteLength - n * sizes[0]) / (sizes[1] + sizes[2] + sizes[3]);
        let offset = 0;
        const column = (index, length) => {
          const bytes = sizes[index] * length;
          const values = new types[sizes[index]](buffer.slice(offset, offset + bytes));
          offset += bytes;
          return values;
        };
        const counts = column(0, n);
        const starts = new Int32Array(n + 1);
        for (let i = 0; i < n; i++) starts[i + 1] = starts[i] + counts[i];
        return {
          starts: starts,
          security: column(1, total),
          before: column(2, total),
          after: column(3, total),
        };
      });
    }
    return columnsPromise;
  }

  async function openDrill(row) {
    state.selected = row.index;
    render();
    const panel = document.getElementById("drill");
    panel.hidden = false;
    panel.replaceChildren();
    const title = document.createElement("h3");
    title.id = "drill-title";
    title.textContent = `Portfolio ${row.id}: drift per security, before and after`;
    const summary = document.createElement("p");
    summary.id = "drill-summary";
    const view = document.createElement("div");
    view.id = "drill-chart";
    view.className = "view";
    panel.setAttribute("role", "region");
    panel.setAttribute("aria-labelledby", "drill-title");
    panel.append(title, summary, view);
    const c = await drillColumns();
    const values = [];
    const bands = [];
    let worst = { before: 0, after: 0 };
    for (let k = c.starts[row.index]; k < c.starts[row.index + 1]; k++) {
      const security = data.drill.securities[c.security[k]];
      const band = data.drill.bands[c.security[k]];
      values.push({ security, when: "before", drift: c.before[k] / 100, text: pct(c.before[k]) });
      values.push({ security, when: "after", drift: c.after[k] / 100, text: pct(c.after[k]) });
      bands.push({ security, low: band[0] * 100, high: band[1] * 100 });
      worst.before = Math.max(worst.before, Math.abs(c.before[k]));
      worst.after = Math.max(worst.after, Math.abs(c.after[k]));
    }
    if (!values.length) {
      summary.textContent = `${row.status}: ${row.message || "-"}. Only a solved (ok) portfolio has drifts in its result.`;
      view.dataset.drawn = "empty";
      return;
    }
    summary.textContent = `${bands.length} securities; largest |weight − target| ${pct(worst.before)} before, ${pct(worst.after)} after. Grey: the band; before is drawn above after in each row.`;
    const spec = {
      title: title.textContent,
      description: summary.textContent,
      width: "container",
      height: 18 * bands.length,
      autosize: { type: "fit-x", contains: "padding" },
      config: { font: "system-ui, sans-serif", view: { stroke: null } },
      layer: [
        {
          data: { values: bands },
          mark: { type: "bar", color: "#e3e7ec", height: { band: 1 } },
          encoding: {
            y: { field: "security", type: "nominal", sort: null, title: null, axis: { labelFontSize: 9 } },
            x: { field: "low", type: "quantitative" },
            x2: { field: "high" },
            tooltip: [{ field: "security" }, { field: "low", title: "band from %", format: ".2f" }, { field: "high", title: "band to %", format: ".2f" }],
          },
        },
        {
          data: { values: values },
          mark: "bar",
          encoding: {
            y: { field: "security", type: "nominal", sort: null },
            yOffset: { field: "when", sort: ["before", "after"] },
            x: { field: "drift", type: "quantitative", title: "weight − target, % of market value" },
            color: { field: "when", type: "nominal", title: null, scale: { domain: ["before", "after"], range: ["#e66b00", "#1f6fb4"] }, legend: { orient: "top" } },
            tooltip: [{ field: "security" }, { field: "when" }, { field: "text", title: "weight − target" }],
          },
        },
      ],
    };
    await draw(view, spec, false);
    panel.scrollIntoView({ block: "nearest" });
  }
})();
