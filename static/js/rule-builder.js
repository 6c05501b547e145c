/* Segment rule builder: edits the JSON rule tree in #id_rule (see docs/segments.md) and
   announces every change with a "rule-changed" event, which htmx uses for the live preview.
   The catalogue of fields, operators and labels comes from the page (#rule-catalogue). */
(function () {
  "use strict";
  const catalogue = JSON.parse(document.getElementById("rule-catalogue").textContent);
  const textarea = document.getElementById("id_rule");
  const root = document.getElementById("rule-builder");
  const t = catalogue.labels;
  const fields = Object.fromEntries(catalogue.fields.map((f) => [f.name, f]));
  const NO_VALUE = ["is_true", "is_false", "is_set", "is_not_set"];
  let rule;
  try { rule = JSON.parse(textarea.value); } catch (e) { rule = null; }
  if (!rule || rule.type !== "group") rule = {type: "group", op: "and", negate: false, children: []};

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (k === "on") Object.entries(v).forEach(([ev, fn]) => node.addEventListener(ev, fn));
      else if (k === "text") node.textContent = v;
      else node.setAttribute(k, v);
    });
    (children || []).forEach((c) => node.appendChild(c));
    return node;
  }
  function select(options, value, onChange, testid) {
    const s = el("select", {"data-testid": testid || ""});
    options.forEach(([v, label]) => {
      const o = el("option", {value: v, text: label});
      if (String(v) === String(value)) o.selected = true;
      s.appendChild(o);
    });
    s.addEventListener("change", () => onChange(s.value));
    return s;
  }
  function input(type, value, onChange, testid) {
    const i = el("input", {type: type, "data-testid": testid || ""});
    i.value = value === undefined || value === null ? "" : value;
    i.addEventListener("input", () => onChange(i.value));
    return i;
  }
  function changed(rerender) {
    textarea.value = JSON.stringify(rule);
    if (rerender) render();
    document.body.dispatchEvent(new Event("rule-changed"));
  }
  function numberOrText(kind, raw) {
    return kind === "number" && raw !== "" && !isNaN(Number(raw)) ? Number(raw) : raw;
  }

  function conditionRow(node) {
    const spec = fields[node.field] || catalogue.fields[0];
    const row = el("div", {class: "rule-row"});
    row.appendChild(select(catalogue.fields.map((f) => [f.name, f.label]), spec.name, (v) => {
      node.field = v; node.operator = fields[v].operators[0]; delete node.value; changed(true);
    }, "rule-field"));
    row.appendChild(select(spec.operators.map((o) => [o, t.operators[o] || o]), node.operator, (v) => {
      node.operator = v; delete node.value; changed(true);
    }, "rule-operator"));
    const type = spec.kind === "number" ? "number" : (spec.kind === "date" || spec.kind === "datetime") ? "date" : "text";
    if (NO_VALUE.includes(node.operator)) {
      // no value
    } else if (node.operator === "between") {
      const pair = Array.isArray(node.value) ? node.value : ["", ""];
      row.appendChild(input(type, pair[0], (v) => { pair[0] = numberOrText(spec.kind, v); node.value = pair; changed(); }, "rule-value"));
      row.appendChild(input(type, pair[1], (v) => { pair[1] = numberOrText(spec.kind, v); node.value = pair; changed(); }, "rule-value-2"));
    } else if (node.operator === "within_last_days") {
      row.appendChild(input("number", node.value, (v) => { node.value = parseInt(v, 10); changed(); }, "rule-value"));
    } else if (node.operator === "in") {
      row.appendChild(input("text", (node.value || []).join(", "), (v) => {
        node.value = v.split(",").map((s) => s.trim()).filter(Boolean).map((s) => numberOrText(spec.kind, s)); changed();
      }, "rule-value"));
    } else if (spec.kind === "choice") {
      if (node.value === undefined) node.value = spec.choices[0];
      row.appendChild(select(spec.choices.map((c) => [c, c]), node.value, (v) => { node.value = v; changed(); }, "rule-value"));
    } else {
      row.appendChild(input(type, node.value, (v) => { node.value = numberOrText(spec.kind, v); changed(); }, "rule-value"));
    }
    return row;
  }

  function windowInput(node) {
    const days = node.window && node.window.last_days;
    return input("number", days, (v) => {
      const n = parseInt(v, 10);
      if (n > 0) node.window = {last_days: n}; else delete node.window;
      changed();
    }, "rule-window");
  }
  function countInputs(node, money) {
    node.count = node.count || {op: "gte", value: 1};
    return [
      select([["gte", t.at_least], ["lte", t.at_most], ["eq", t.exactly]], node.count.op, (v) => { node.count.op = v; changed(); }, "rule-count-op"),
      input("number", node.count.value, (v) => { node.count.value = money ? Number(v) : parseInt(v, 10); changed(); }, "rule-count"),
    ];
  }
  function behaviourRow(node) {
    const row = el("div", {class: "rule-row"}, [el("span", {text: t.did})]);
    row.appendChild(select(catalogue.events.map(([v, l]) => [v, l]), node.event, (v) => { node.event = v; changed(); }, "rule-event"));
    countInputs(node).forEach((c) => row.appendChild(c));
    row.appendChild(el("span", {text: t.times_in_last}));
    row.appendChild(windowInput(node));
    row.appendChild(el("span", {text: t.days_category}));
    row.appendChild(input("text", (node.filters || {}).category, (v) => {
      node.filters = v ? {category: v} : {}; changed();
    }, "rule-category"));
    return row;
  }
  function purchaseRow(node) {
    const row = el("div", {class: "rule-row"}, [el("span", {text: t.bought})]);
    const [key, value] = Object.entries(node.product || {})[0] || ["", ""];
    row.appendChild(select([["", t.anything], ["category", t.category], ["brand", t.brand], ["sku", "SKU"]], key, (v) => {
      node.product = v ? {[v]: value || ""} : {}; changed(true);
    }, "rule-product-key"));
    if (key) row.appendChild(input("text", value, (v) => { node.product = {[key]: v}; changed(); }, "rule-product"));
    row.appendChild(select([["orders", t.orders], ["amount", t.amount]], node.measure || "orders", (v) => { node.measure = v; changed(); }, "rule-measure"));
    countInputs(node, node.measure === "amount").forEach((c) => row.appendChild(c));
    row.appendChild(el("span", {text: t.in_last}));
    row.appendChild(windowInput(node));
    row.appendChild(el("span", {text: t.days}));
    return row;
  }

  function segmentRow(node) {
    const row = el("div", {class: "rule-row"}, [el("span", {text: t.customer})]);
    row.appendChild(select([["true", t.in_segment], ["false", t.not_in_segment]], String(node.member !== false), (v) => {
      node.member = v === "true"; changed();
    }, "rule-member"));
    row.appendChild(select(catalogue.segments, node.segment_id, (v) => { node.segment_id = parseInt(v, 10); changed(); }, "rule-segment"));
    return row;
  }

  function groupBox(group, parent) {
    const box = el("div", {class: "rule-group", "data-testid": "rule-group"});
    const head = el("div", {class: "rule-row"});
    head.appendChild(select([["and", t.all], ["or", t.any]], group.op, (v) => { group.op = v; changed(); }, "rule-group-op"));
    const not = el("label", {class: "inline-check"}, [el("input", {type: "checkbox", "data-testid": "rule-negate"}), document.createTextNode(t.not)]);
    not.firstChild.checked = !!group.negate;
    not.firstChild.addEventListener("change", (e) => { group.negate = e.target.checked; changed(); });
    head.appendChild(not);
    if (parent) head.appendChild(el("button", {type: "button", class: "link", text: t.remove_group, on: {click: () => {
      parent.children.splice(parent.children.indexOf(group), 1); changed(true);
    }}}));
    box.appendChild(head);
    group.children.forEach((child) => {
      const line = child.type === "group" ? groupBox(child, group)
        : child.type === "behaviour" ? behaviourRow(child)
        : child.type === "purchase" ? purchaseRow(child)
        : child.type === "segment" ? segmentRow(child) : conditionRow(child);
      if (child.type !== "group") line.appendChild(el("button", {type: "button", class: "link", text: "×", title: t.remove, on: {click: () => {
        group.children.splice(group.children.indexOf(child), 1); changed(true);
      }}}));
      box.appendChild(line);
    });
    const first = catalogue.fields[0];
    const add = (node) => () => { group.children.push(node()); changed(true); };
    box.appendChild(el("div", {class: "rule-add"}, [
      el("button", {type: "button", "data-testid": "add-condition", text: t.add_condition,
        on: {click: add(() => ({type: "condition", field: first.name, operator: first.operators[0]}))}}),
      el("button", {type: "button", "data-testid": "add-behaviour", text: t.add_behaviour,
        on: {click: add(() => ({type: "behaviour", event: "view", count: {op: "gte", value: 1}, window: {last_days: 30}}))}}),
      el("button", {type: "button", "data-testid": "add-purchase", text: t.add_purchase,
        on: {click: add(() => ({type: "purchase", product: {}, measure: "orders", count: {op: "gte", value: 1}}))}}),
      ...(catalogue.segments.length ? [el("button", {type: "button", "data-testid": "add-segment", text: t.add_segment,
        on: {click: add(() => ({type: "segment", segment_id: catalogue.segments[0][0], member: true}))}})] : []),
      el("button", {type: "button", "data-testid": "add-group", text: t.add_group,
        on: {click: add(() => ({type: "group", op: "or", negate: false, children: []}))}}),
    ]));
    return box;
  }
  function render() {
    root.replaceChildren(groupBox(rule, null));
  }
  textarea.value = JSON.stringify(rule);
  render();
})();
