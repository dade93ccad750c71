// rfb_check.js drives static/rfb.js (argv[2]) under Node with a fake
// WebSocket and canvas: a server handshake, a FramebufferUpdate of a Raw
// and a CopyRect rectangle, a Bell and a DesktopSize split across
// messages; it prints what the client sent and drew as JSON.
const fs = require("fs");
global.WebSocket = function (url, protos) {
  this.url = url; this.protos = protos; this.readyState = 1; this.sent = [];
  global.lastWS = this;
  setTimeout(() => this.onopen(), 0);
};
global.WebSocket.OPEN = 1;
global.WebSocket.prototype.send = function (b) { this.sent.push(Array.from(b)); };
global.WebSocket.prototype.close = function () { this.closed = true; };
global.document = { title: "" };
const puts = [], draws = [];
const canvas = {
  width: 0, height: 0,
  getContext: () => ({
    createImageData: (w, h) => ({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4) }),
    putImageData: (img, x, y) => puts.push([img.width, img.height, x, y, Array.from(img.data.slice(0, 4))]),
    drawImage: (...a) => draws.push(a.slice(1)),
  }),
  addEventListener: () => {},
  getBoundingClientRect: () => ({ left: 0, top: 0, width: 4, height: 2 }),
};
// rfb.js as the page loads it, its constructor then global.
eval(fs.readFileSync(process.argv[2], "utf8") + "\nglobal.KumoRFB = KumoRFB;");
const statuses = [];
const rfb = new KumoRFB(canvas, "ws://x/console/websockify?token=t", s => statuses.push(s));
const push = bytes => rfb.ws.onmessage({ data: new Uint8Array(bytes).buffer });
const u16 = v => [v >> 8, v & 255], u32 = v => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
setTimeout(async () => {
  push(Array.from("RFB 003.008\n", c => c.charCodeAt(0)));
  push([2, 2, 1]);           // types VNC auth, None
  push(u32(0));             // ok
  // ServerInit 4x2, pixel format, name "vm"
  push([...u16(4), ...u16(2), ...new Array(16).fill(0), ...u32(2), 118, 109]);
  // FramebufferUpdate: 2 rects: raw 1x1 at (1,1) BGRX=(3,2,1,0), copyrect 1x1 from (1,1) to (0,0)
  push([0, 0, ...u16(2), ...u16(1), ...u16(1), ...u16(1), ...u16(1), ...u32(0), 3, 2, 1, 0,
        ...u16(0), ...u16(0), ...u16(1), ...u16(1), ...u32(1), ...u16(1), ...u16(1)]);
  // split message: Bell then DesktopSize in two chunks
  push([2, 0, 0]); push([...u16(1), ...u16(0), ...u16(0), ...u16(8), ...u16(6), ...u32(-223 >>> 0)]);
  await new Promise(r => setTimeout(r, 50));
  console.log(JSON.stringify({ protos: rfb.ws.protos, sent: rfb.ws.sent, puts, draws, w: canvas.width, h: canvas.height, statuses }));
}, 10);
