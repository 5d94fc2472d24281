// The page: a form built from /api/form, uploads, one job at a time, polled (the poll is the heartbeat).
"use strict";

const $ = (id) => document.getElementById(id);
const state = {form: null, task: null, uploads: {}, maskFile: null, reference: null, job: null, timer: null,
               preview: 0, estimates: 0, estimateTimer: null};
const mask = Draw.maskCanvas($("mask"), $("brush-size"));

function say(text) {
  const box = $("message");
  box.textContent = text || "";
  box.hidden = !text;
}

async function call(url, options) {
  let response;
  try {
    response = await fetch(url, options);
  } catch (err) {
    throw new Error("the server does not answer (is deepprior serve still running?)");
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `the server answered ${response.status}`);
  return body;
}

async function upload(file) {
  const data = new FormData();
  data.append("file", file, file.name || "mask.png");
  return call("/api/uploads", {method: "POST", body: data});
}

function field(label, help, control, flag) {
  const wrap = document.createElement("label");
  wrap.title = help || "";
  wrap.append(label + " ", control);
  if (flag) {  // the command line's name of the same setting, as a hint
    const hint = document.createElement("code");
    hint.className = "flag";
    hint.textContent = flag;
    wrap.append(" ", hint);
  }
  return wrap;
}

function optionControl(o) {
  let el;
  if (o.kind === "choice") {
    el = document.createElement("select");
    if (!o.required && o.default === null) el.append(new Option("automatic", ""));
    for (const c of o.choices) el.append(new Option(c, c));
    if (o.default !== null) el.value = String(o.default);
  } else if (o.kind === "switch") {
    el = document.createElement("input");
    el.type = "checkbox";
    el.checked = Boolean(o.default);
  } else if (o.kind === "float" || o.kind === "int") {
    el = document.createElement("input");
    el.type = "number";
    el.step = o.kind === "int" ? "1" : "any";
    if (o.low !== null) el.min = o.low;
    if (o.high !== null) el.max = o.high;
    el.placeholder = o.default !== null ? String(o.default) : "automatic";
  } else if (o.kind === "path") {
    el = document.createElement("input");
    el.type = "file";
  } else {
    el = document.createElement("input");
    el.type = "text";
    el.placeholder = o.default !== null ? String(o.default) : "";
  }
  el.id = "opt-" + o.name;
  return el;
}

function renderTask(name) {
  const task = state.form.tasks.find((t) => t.name === name);
  state.task = task;
  state.uploads = {};
  $("summary").textContent = task.summary.replace(/\bINPUT\b/g, "the image").replace(/ \((blind; )?files or folders\)/, "")
    .replace(/--scale/g, "the factor below");
  const inputs = $("inputs");
  inputs.replaceChildren();
  for (const input of task.inputs) {
    const el = document.createElement("input");
    el.type = "file";
    el.id = "input-" + input;
    el.accept = "image/*,.tif,.tiff";
    const info = document.createElement("span");
    info.id = "info-" + input;
    info.className = "help";
    el.addEventListener("change", () => chooseImage(input, el, info));
    const wrap = field(task.inputs.length > 1 ? `${input.replace("noflash", "no-flash")} photo` : "Image", "", el);
    wrap.append(" ", info);
    inputs.append(wrap);
  }
  const options = $("options");
  options.replaceChildren();
  for (const o of task.options) {
    if (o.draw) continue;  // drawn or uploaded in the mask panel
    options.append(field(o.label, o.help, optionControl(o), o.flag));
  }
  $("mask-panel").hidden = !task.options.some((o) => o.draw);
  $("estimate").textContent = "";
  const preset = $("preset");
  preset.replaceChildren(...task.presets.map((p) => new Option(p, p)));
  preset.value = task.default_preset;
}

async function chooseImage(input, el, info) {
  say("");
  delete state.uploads[input];
  info.textContent = "";
  if (!el.files.length) return;
  try {
    const u = await upload(el.files[0]);
    state.uploads[input] = u;
    info.textContent = `${u.width}x${u.height}, ${u.channels} channel(s), ${u.bit_depth}-bit` +
      (u.alpha ? ", with alpha" : "") + (u.holes ? " (transparent pixels are holes)" : "");
    if (input === state.task.inputs[state.task.inputs.length - 1]) showPhoto(u);
    estimateSoon();
  } catch (err) {
    el.value = "";
    say(err.message);
  }
}

function showPhoto(u) {
  $("photo").src = u.preview;
  $("photo").hidden = false;
  mask.reset(u.width, u.height);
  const shown = Math.min(640, Math.max(320, u.width));
  $("stage").style.width = shown + "px";
  const size = Math.max(2, Math.round(Math.min(u.width, u.height) / 12));
  $("brush-size").max = Math.max(64, Math.round(Math.min(u.width, u.height) / 2));
  $("brush-size").value = size;
  $("brush-value").textContent = size;
}

function values() {
  const options = {};
  for (const o of state.task.options) {
    if (o.draw || o.kind === "path") continue;
    const el = $("opt-" + o.name);
    options[o.name] = o.kind === "switch" ? el.checked : el.value;
  }
  const settings = {};
  for (const key of ["preset", "stop", "num_iter", "time_limit", "seed"]) settings[key] = $(key).value;
  return {options, settings};
}

// The task's own small example, uploaded by the server: its images, options and clean reference, in one click.
async function tryExample() {
  say("");
  try {
    const ex = await call(`/api/examples/${encodeURIComponent(state.task.name)}`, {method: "POST"});
    for (const [input, u] of Object.entries(ex.images)) {
      state.uploads[input] = u;
      $("input-" + input).value = "";
      $("info-" + input).textContent = `the example, ${u.width}x${u.height} (its clean image is the reference)`;
    }
    showPhoto(ex.images[state.task.inputs[state.task.inputs.length - 1]]);
    for (const o of state.task.options) {
      if (!(o.name in ex.options)) continue;
      const value = ex.options[o.name];
      if (o.kind === "path") state.maskFile = {id: value};
      else if (o.kind === "switch") $("opt-" + o.name).checked = Boolean(value);
      else $("opt-" + o.name).value = String(value);
    }
    state.reference = ex.reference;
    estimateSoon();
  } catch (err) {
    say(err.message);
  }
}

// How long the fit would take on this server, asked before Restore (the server times a short fit, cached).
async function estimate() {
  const box = $("estimate");
  const asked = ++state.estimates;
  const images = {};
  for (const input of state.task.inputs) {
    if (!state.uploads[input]) { box.textContent = ""; return; }
    images[input] = state.uploads[input].id;
  }
  const {options, settings} = values();
  if (state.maskFile && state.task.options.some((o) => o.draw)) {
    options[state.task.options.find((o) => o.draw).name] = state.maskFile.id;
  }
  box.textContent = "Estimating the time on this server…";
  try {
    const e = await call("/api/estimate", {method: "POST", headers: {"Content-Type": "application/json"},
                                           body: JSON.stringify({task: state.task.name, images, options, settings})});
    if (asked === state.estimates) box.textContent = e.text ? `Estimated time: ${e.text}.` : "";
  } catch (err) {
    if (asked === state.estimates) box.textContent = "";  // e.g. a mask not painted yet: Restore says what is missing
  }
}

function estimateSoon() {
  clearTimeout(state.estimateTimer);
  state.estimateTimer = setTimeout(estimate, 400);
}

async function restore() {
  say("");
  const images = {};
  for (const input of state.task.inputs) {
    if (!state.uploads[input]) { say(`choose the ${input} image first`); return; }
    images[input] = state.uploads[input].id;
  }
  const {options, settings} = values();
  $("restore").disabled = true;
  try {
    const drawn = state.task.options.find((o) => o.draw);
    if (drawn && mask.painted()) options[drawn.name] = (await upload(await mask.toBlob())).id;
    else if (drawn && state.maskFile) options[drawn.name] = state.maskFile.id;
    const body = {task: state.task.name, images, options, settings,
                  reference: state.reference ? state.reference.id : null};
    const job = await call("/api/jobs", {method: "POST", headers: {"Content-Type": "application/json"},
                                         body: JSON.stringify(body)});
    state.job = job.id;
    state.preview = 0;
    $("results").hidden = true;
    $("stop-button").disabled = false;
    show(job);
    state.timer = setInterval(poll, 700);
  } catch (err) {
    say(err.message);
    $("restore").disabled = false;
  }
}

async function poll() {
  if (!state.job) return;
  try {
    show(await call(`/api/jobs/${state.job}`));
  } catch (err) {
    say(err.message);
    finish();
  }
}

function seconds(s) {
  if (s === null || s === undefined) return "-";
  return s < 90 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`;
}

function show(job) {
  const bar = $("progress");
  bar.max = Math.max(1, job.total);
  bar.value = job.iteration;
  let text;
  if (job.state === "queued") text = `waiting: position ${job.position} in the queue`;
  else if (job.state === "running" && job.tiles) {  // a tiled fit: its tiles' progress
    // tiles numbered from 0, as in the log, the warnings and the report
    const running = job.tiles.running.map(([i, it]) => `tile ${i} at iteration ${it}`).join(", ");
    text = `tiles: ${job.tiles.done} of ${job.tiles.count} restored` + (running ? `; running ${running}` : "") +
      `; ${seconds(job.seconds)} so far, up to ${seconds(job.seconds_left)} left`;
  } else if (job.state === "running") {
    text = job.total ? `iteration ${job.iteration} / ${job.total}, loss ${job.loss === null ? "-" :
      job.loss.toExponential(3)}, ${seconds(job.seconds)} so far, up to ${seconds(job.seconds_left)} left`
      : "starting the fit ...";
  } else if (job.state === "done") text = `done: ${job.summary.iterations} iterations (${job.summary.stop_reason})`;
  else text = `${job.state}: ${job.message}`;
  $("status").textContent = text;
  if (job.preview && job.preview !== state.preview) {
    state.preview = job.preview;
    $("preview").src = `/api/jobs/${job.id}/preview.png?v=${job.preview}`;
    $("preview").hidden = false;
    $("preview-placeholder").hidden = true;
    $("preview-caption").textContent = job.tiles ?
      `preview: ${job.tiles.done} of ${job.tiles.count} tiles restored, over the input` :
      `preview at iteration ${job.preview_iteration}`;
  }
  $("curves").parentElement.hidden = Boolean(job.tiles);  // a tiled fit has no curve of the whole image
  Draw.curves($("curves"), job.points, job.total);
  if (job.state === "failed" || job.state === "cancelled") { say(job.message); finish(); }
  if (job.state === "done") { results(job); finish(); }
}

function finish() {
  clearInterval(state.timer);
  state.timer = null;
  $("restore").disabled = false;
  $("stop-button").disabled = true;
}

function results(job) {
  const s = job.summary;
  $("after").src = job.files.preview;
  $("before").src = job.files.input;
  $("results").hidden = false;
  const psnr = s.psnr === null ? "" : `, PSNR ${s.input_psnr === null ? "" : s.input_psnr.toFixed(2) + " -> "}` +
    `${s.psnr.toFixed(2)} dB`;
  $("result-text").textContent = `${s.width}x${s.height}, ${s.bit_depth}-bit; ${s.iterations} iterations ` +
    `(${s.stop_reason}), returned iteration ${s.stopped_at}, ${s.seconds} s, ${s.preset} / ${s.net} on ` +
    `${s.device}${psnr}`;
  for (const name of ["image", "report", "curves", "animation"]) {
    const a = $("download-" + name);
    a.hidden = !job.files[name];
    if (job.files[name]) a.href = job.files[name];
  }
  slide();
}

// The result zoomed for a close look: "fit" shows it 420 pixels wide, Nx gives N screen pixels per pixel;
// the viewport scrolls, and dragging in it moves the image.
function zoom() {
  const z = Number($("zoom").value);
  const img = $("after");
  img.style.width = z && img.naturalWidth ? `${img.naturalWidth * z}px` : "";
  slide();
}

function pan() {
  const view = $("viewport");
  let from = null;
  view.addEventListener("pointerdown", (e) => {
    e.preventDefault();  // no image drag, no text selection: the pointer moves the view
    from = {x: e.clientX, y: e.clientY, left: view.scrollLeft, top: view.scrollTop};
    view.classList.add("panning");
    view.setPointerCapture(e.pointerId);
  });
  view.addEventListener("pointermove", (e) => {
    if (!from) return;
    view.scrollLeft = from.left - (e.clientX - from.x);
    view.scrollTop = from.top - (e.clientY - from.y);
  });
  const end = () => { from = null; view.classList.remove("panning"); };
  view.addEventListener("pointerup", end);
  view.addEventListener("pointercancel", end);
}

function slide() {
  const v = Number($("slider").value);
  $("before-clip").style.width = v + "%";  // the input on the left of the slider, the result on its right
  $("before").style.width = $("after").getBoundingClientRect().width + "px";
}

async function init() {
  try {
    state.form = await call("/api/form");
  } catch (err) {
    say(err.message);
    return;
  }
  const task = $("task");
  for (const t of state.form.tasks) task.append(new Option(t.title, t.name));
  task.addEventListener("change", () => renderTask(task.value));
  const stop = $("stop");
  for (const c of state.form.settings.stop.choices) stop.append(new Option(c, c));
  stop.value = state.form.settings.stop.default;
  renderTask(state.form.tasks[0].name);
  $("restore").addEventListener("click", restore);
  $("example").addEventListener("click", tryExample);
  // Files dropped on the form: one per image input in order, or the one image of the task.
  const setup = $("setup");
  setup.addEventListener("dragover", (event) => { event.preventDefault(); setup.classList.add("dropping"); });
  setup.addEventListener("dragleave", () => setup.classList.remove("dropping"));
  setup.addEventListener("drop", (event) => {
    event.preventDefault();
    setup.classList.remove("dropping");
    const files = [...event.dataTransfer.files];
    const inputs = state.task.inputs;
    if (!files.length) return;
    const targets = files.length >= inputs.length ? inputs : inputs.slice(-files.length);
    targets.forEach((input, i) => {
      const el = $("input-" + input);
      const chosen = new DataTransfer();
      chosen.items.add(files[i]);
      el.files = chosen.files;
      el.dispatchEvent(new Event("change"));
    });
  });
  $("setup").addEventListener("change", (event) => { if (event.target.type !== "file") estimateSoon(); });
  $("stop-button").addEventListener("click", () => {
    if (state.job) call(`/api/jobs/${state.job}/stop`, {method: "POST"}).catch((err) => say(err.message));
  });
  $("clear-mask").addEventListener("click", () => mask.clear());
  $("brush-size").addEventListener("input", () => { $("brush-value").textContent = $("brush-size").value; });
  for (const radio of document.querySelectorAll("input[name=tool]")) {
    radio.addEventListener("change", () => mask.setTool(radio.value));
  }
  // An optional second file (mask, reference): uploaded on choice, its id kept in state[key].
  const uploadOnChange = (id, key) => $(id).addEventListener("change", async () => {
    say("");
    state[key] = null;
    const el = $(id);
    if (!el.files.length) return;
    try { state[key] = await upload(el.files[0]); } catch (err) { el.value = ""; say(err.message); }
  });
  uploadOnChange("mask-file", "maskFile");
  uploadOnChange("reference", "reference");
  $("slider").addEventListener("input", slide);
  $("zoom").addEventListener("change", zoom);
  $("after").addEventListener("load", zoom);
  pan();
  // A closed page stops its job at once (else the server cancels it once the polls stop).
  window.addEventListener("pagehide", () => {
    if (state.job && state.timer) navigator.sendBeacon(`/api/jobs/${state.job}/stop`);
  });
}

init();
