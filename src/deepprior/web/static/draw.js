// The page's two canvases: the inpainting mask (brush and eraser over the photo) and the growing curves.
"use strict";

const Draw = (() => {
  // A mask canvas at the image's own resolution; painted pixels are the missing ones.
  function maskCanvas(canvas, sizeInput) {
    const ctx = canvas.getContext("2d");
    let drawing = false;
    let last = null;
    let tool = "brush";

    function point(event) {
      const rect = canvas.getBoundingClientRect();
      return [(event.clientX - rect.left) * canvas.width / rect.width,
              (event.clientY - rect.top) * canvas.height / rect.height];
    }
    function stroke(from, to) {
      ctx.globalCompositeOperation = tool === "eraser" ? "destination-out" : "source-over";
      ctx.strokeStyle = "#ff2020";
      ctx.fillStyle = "#ff2020";
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.lineWidth = Number(sizeInput.value);
      ctx.beginPath();
      ctx.moveTo(from[0], from[1]);
      ctx.lineTo(to[0] + 0.01, to[1]);
      ctx.stroke();
    }
    canvas.addEventListener("pointerdown", (e) => {
      drawing = true;
      last = point(e);
      stroke(last, last);
      canvas.setPointerCapture(e.pointerId);
    });
    canvas.addEventListener("pointermove", (e) => {
      if (!drawing) return;
      const p = point(e);
      stroke(last, p);
      last = p;
    });
    const end = () => { drawing = false; last = null; };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);

    return {
      setTool(name) { tool = name; },
      reset(width, height) { canvas.width = width; canvas.height = height; ctx.clearRect(0, 0, width, height); },
      clear() { ctx.clearRect(0, 0, canvas.width, canvas.height); },
      painted() {
        const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 3; i < data.length; i += 4) if (data[i] >= 64) return true;
        return false;
      },
      // The mask file the command line reads: white = known, black = missing (painted).
      toBlob() {
        const w = canvas.width, h = canvas.height;
        const painted = ctx.getImageData(0, 0, w, h).data;
        const out = document.createElement("canvas");
        out.width = w; out.height = h;
        const octx = out.getContext("2d");
        const image = octx.createImageData(w, h);
        for (let i = 0; i < painted.length; i += 4) {
          const v = painted[i + 3] >= 64 ? 0 : 255;
          image.data[i] = v; image.data[i + 1] = v; image.data[i + 2] = v; image.data[i + 3] = 255;
        }
        octx.putImageData(image, 0, 0);
        return new Promise((resolve) => out.toBlob(resolve, "image/png"));
      },
    };
  }

  // Loss (log scale, left axis) and PSNR (right axis) against the iteration.
  function curves(canvas, points, total) {
    const ctx = canvas.getContext("2d");
    const W = canvas.width, H = canvas.height, L = 56, R = 50, T = 14, B = 30;
    ctx.clearRect(0, 0, W, H);
    ctx.font = "11px system-ui, sans-serif";
    ctx.strokeStyle = "#999";
    ctx.strokeRect(L, T, W - L - R, H - T - B);
    if (!points.length) return;
    const xmax = Math.max(total || 1, points[points.length - 1].iteration);
    const x = (it) => L + (W - L - R) * it / xmax;
    const hasRef = points.some((p) => p.psnr !== null);
    const series = [
      {key: "loss", color: "#2b6cb0", log: true, side: "left", label: "loss"},
      {key: hasRef ? "psnr" : "psnr_input", color: "#d97706", log: false, side: "right",
       label: hasRef ? "PSNR vs reference" : "PSNR vs input"},
    ];
    ctx.fillStyle = "#444";
    ctx.fillText("0", L - 4, H - B + 14);
    ctx.fillText(String(xmax), W - R - 20, H - B + 14);
    ctx.fillText("iteration", (W - L - R) / 2 + L - 20, H - 8);
    series.forEach((s, k) => {
      const values = points.map((p) => p[s.key]).filter((v) => v !== null && (!s.log || v > 0));
      if (!values.length) return;
      const f = (v) => (s.log ? Math.log10(v) : v);
      let lo = Math.min(...values.map(f)), hi = Math.max(...values.map(f));
      if (hi - lo < 1e-9) { lo -= 0.5; hi += 0.5; }
      const y = (v) => T + (H - T - B) * (1 - (f(v) - lo) / (hi - lo));
      ctx.strokeStyle = s.color;
      ctx.lineWidth = 1.6;
      ctx.beginPath();
      let started = false;
      for (const p of points) {
        const v = p[s.key];
        if (v === null || (s.log && v <= 0)) continue;
        if (started) ctx.lineTo(x(p.iteration), y(v)); else ctx.moveTo(x(p.iteration), y(v));
        started = true;
      }
      ctx.stroke();
      ctx.fillStyle = s.color;
      const fmt = (v) => (s.log ? Number(Math.pow(10, v)).toExponential(1) : v.toFixed(1));
      const ax = s.side === "left" ? 2 : W - R + 4;
      ctx.fillText(fmt(hi), ax, T + 8);
      ctx.fillText(fmt(lo), ax, H - B);
      ctx.fillText(s.label, L + 8 + k * 150, T + 14);
    });
  }

  return {maskCanvas, curves};
})();
