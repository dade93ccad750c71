// A small RFB 3.8 client (RFC 6143) for kumo's VNC consoles: security
// type None, Raw and CopyRect encodings and the DesktopSize
// pseudo-encoding, a FramebufferUpdateRequest after each update, key
// and pointer events. The websocket carries the RFB stream as binary
// messages (websockify's protocol).
"use strict";

function KumoRFB(canvas, url, onStatus) {
  this.canvas = canvas;
  this.ctx = canvas.getContext("2d");
  this.onStatus = onStatus || function () {};
  this.chunks = [];      // received, not yet consumed
  this.have = 0;         // bytes in chunks
  this.waiter = null;    // {n, resolve} of a pending read
  this.closed = false;
  this.width = canvas.width;
  this.height = canvas.height;
  this.buttons = 0;
  var self = this;
  var ws = new WebSocket(url, ["binary"]);
  ws.binaryType = "arraybuffer";
  this.ws = ws;
  ws.onopen = function () { self.onStatus("Connected, waiting for the server…"); self.run(); };
  ws.onmessage = function (e) {
    var data = e.data instanceof ArrayBuffer ? new Uint8Array(e.data) : new TextEncoder().encode(e.data);
    self.chunks.push(data);
    self.have += data.length;
    self.wake();
  };
  ws.onclose = function (e) {
    self.closed = true;
    self.onStatus("Disconnected" + (e.reason ? ": " + e.reason : "") + " (" + e.code + ")");
    self.wake();
  };
  ws.onerror = function () { self.onStatus("Connection failed"); };
  this.bindInput();
}

// read resolves with the next n bytes of the stream.
KumoRFB.prototype.read = function (n) {
  var self = this;
  return new Promise(function (resolve, reject) {
    self.waiter = { n: n, resolve: resolve, reject: reject };
    self.wake();
  });
};

KumoRFB.prototype.wake = function () {
  var w = this.waiter;
  if (!w) return;
  if (this.have >= w.n) {
    this.waiter = null;
    var out = new Uint8Array(w.n), off = 0;
    while (off < w.n) {
      var c = this.chunks[0], take = Math.min(c.length, w.n - off);
      out.set(c.subarray(0, take), off);
      off += take;
      if (take === c.length) this.chunks.shift(); else this.chunks[0] = c.subarray(take);
    }
    this.have -= w.n;
    w.resolve(out);
  } else if (this.closed) {
    this.waiter = null;
    w.reject(new Error("connection closed"));
  }
};

KumoRFB.prototype.u8 = async function () { return (await this.read(1))[0]; };
KumoRFB.prototype.u16 = async function () { var b = await this.read(2); return (b[0] << 8) | b[1]; };
KumoRFB.prototype.u32 = async function () { var b = await this.read(4); return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0; };
KumoRFB.prototype.s32 = async function () { return (await this.u32()) | 0; };
KumoRFB.prototype.text = async function (n) { return new TextDecoder("latin1").decode(await this.read(n)); };

KumoRFB.prototype.send = function (bytes) {
  if (!this.closed && this.ws.readyState === WebSocket.OPEN) this.ws.send(new Uint8Array(bytes));
};

KumoRFB.prototype.run = async function () {
  try {
    await this.handshake();
    this.requestUpdate(false);
    for (;;) await this.message();
  } catch (e) {
    if (!this.closed) { this.onStatus("Error: " + e.message); this.ws.close(); }
  }
};

KumoRFB.prototype.handshake = async function () {
  var version = await this.text(12);
  if (!/^RFB 003\.\d{3}\n$/.test(version)) throw new Error("not an RFB server: " + JSON.stringify(version));
  this.send(Array.from("RFB 003.008\n", function (c) { return c.charCodeAt(0); }));
  var n = await this.u8();
  if (n === 0) throw new Error(await this.text(await this.u32()));
  var types = await this.read(n);
  if (types.indexOf(1) < 0) throw new Error("the server wants authentication (types " + Array.from(types).join(",") + ")");
  this.send([1]); // None
  if (await this.u32() !== 0) throw new Error(await this.text(await this.u32()));
  this.send([1]); // ClientInit: shared
  this.resize(await this.u16(), await this.u16());
  await this.read(16); // the server's pixel format: replaced below
  var name = await this.text(await this.u32());
  this.onStatus("Connected: " + name);
  document.title = name + " - kumo console";
  // SetPixelFormat: 32 bpp, depth 24, little endian, true colour, 8 bits
  // each at red 16, green 8, blue 0: each pixel arrives as B, G, R, X.
  this.send([0, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]);
  // SetEncodings: CopyRect (1), Raw (0), DesktopSize (-223).
  var enc = [1, 0, -223], msg = [2, 0, 0, enc.length];
  enc.forEach(function (e) { msg.push((e >>> 24) & 255, (e >>> 16) & 255, (e >>> 8) & 255, e & 255); });
  this.send(msg);
};

KumoRFB.prototype.resize = function (w, h) {
  this.width = w; this.height = h;
  this.canvas.width = w; this.canvas.height = h;
};

KumoRFB.prototype.requestUpdate = function (incremental) {
  var w = this.width, h = this.height;
  this.send([3, incremental ? 1 : 0, 0, 0, 0, 0, w >> 8, w & 255, h >> 8, h & 255]);
};

KumoRFB.prototype.message = async function () {
  var type = await this.u8();
  switch (type) {
    case 0: { // FramebufferUpdate
      await this.read(1);
      var rects = await this.u16(), full = false;
      for (var i = 0; i < rects; i++) {
        var x = await this.u16(), y = await this.u16(), w = await this.u16(), h = await this.u16();
        var enc = await this.s32();
        if (enc === 0) {
          var px = await this.read(w * h * 4);
          if (w > 0 && h > 0) {
            var img = this.ctx.createImageData(w, h), d = img.data;
            for (var p = 0; p < px.length; p += 4) {
              d[p] = px[p + 2]; d[p + 1] = px[p + 1]; d[p + 2] = px[p]; d[p + 3] = 255;
            }
            this.ctx.putImageData(img, x, y);
          }
        } else if (enc === 1) {
          var sx = await this.u16(), sy = await this.u16();
          if (w > 0 && h > 0) this.ctx.drawImage(this.canvas, sx, sy, w, h, x, y, w, h);
        } else if (enc === -223) {
          this.resize(w, h);
          full = true;
        } else {
          throw new Error("unsupported encoding " + enc);
        }
      }
      this.requestUpdate(!full);
      break;
    }
    case 1: { // SetColourMapEntries: unused in true colour
      await this.read(3);
      var count = await this.u16();
      await this.read(count * 6);
      break;
    }
    case 2: // Bell
      break;
    case 3: { // ServerCutText
      await this.read(3);
      await this.read(await this.u32());
      break;
    }
    default:
      throw new Error("unknown server message " + type);
  }
};

// keysyms of the keys KeyboardEvent.key names (X11's keysymdef.h).
KumoRFB.keysyms = {
  Backspace: 0xff08, Tab: 0xff09, Enter: 0xff0d, Escape: 0xff1b, Delete: 0xffff,
  Home: 0xff50, ArrowLeft: 0xff51, ArrowUp: 0xff52, ArrowRight: 0xff53, ArrowDown: 0xff54,
  PageUp: 0xff55, PageDown: 0xff56, End: 0xff57, Insert: 0xff63,
  Shift: 0xffe1, Control: 0xffe3, Alt: 0xffe9, AltGraph: 0xfe03, Meta: 0xffe7, CapsLock: 0xffe5
};

KumoRFB.keysym = function (e) {
  if (KumoRFB.keysyms[e.key] !== undefined) {
    var k = KumoRFB.keysyms[e.key];
    if (e.location === 2 && k >= 0xffe1 && k <= 0xffea) k += 1; // right-hand modifiers
    return k;
  }
  var f = /^F(\d{1,2})$/.exec(e.key);
  if (f) return 0xffbe + Number(f[1]) - 1;
  var chars = Array.from(e.key);
  if (chars.length === 1) {
    var cp = chars[0].codePointAt(0);
    return cp < 0x100 ? cp : 0x01000000 + cp;
  }
  return null;
};

KumoRFB.prototype.key = function (sym, down) {
  this.send([4, down ? 1 : 0, 0, 0, (sym >>> 24) & 255, (sym >>> 16) & 255, (sym >>> 8) & 255, sym & 255]);
};

KumoRFB.prototype.sendCtrlAltDel = function () {
  var self = this;
  [0xffe3, 0xffe9, 0xffff].forEach(function (k) { self.key(k, true); });
  [0xffff, 0xffe9, 0xffe3].forEach(function (k) { self.key(k, false); });
};

KumoRFB.prototype.pointer = function (e) {
  var r = this.canvas.getBoundingClientRect();
  var x = Math.max(0, Math.min(this.width - 1, Math.round((e.clientX - r.left) * this.width / r.width)));
  var y = Math.max(0, Math.min(this.height - 1, Math.round((e.clientY - r.top) * this.height / r.height)));
  this.send([5, this.buttons, x >> 8, x & 255, y >> 8, y & 255]);
};

KumoRFB.prototype.bindInput = function () {
  var self = this, c = this.canvas;
  c.addEventListener("keydown", function (e) {
    var sym = KumoRFB.keysym(e);
    if (sym === null) return;
    e.preventDefault();
    self.key(sym, true);
  });
  c.addEventListener("keyup", function (e) {
    var sym = KumoRFB.keysym(e);
    if (sym === null) return;
    e.preventDefault();
    self.key(sym, false);
  });
  // RFB's buttons: 1 left, 2 middle, 4 right; 8 and 16 the wheel.
  var bit = function (b) { return b === 0 ? 1 : b === 1 ? 2 : b === 2 ? 4 : 0; };
  c.addEventListener("mousedown", function (e) { c.focus(); self.buttons |= bit(e.button); self.pointer(e); e.preventDefault(); });
  c.addEventListener("mouseup", function (e) { self.buttons &= ~bit(e.button); self.pointer(e); e.preventDefault(); });
  c.addEventListener("mousemove", function (e) { self.pointer(e); });
  c.addEventListener("contextmenu", function (e) { e.preventDefault(); });
  c.addEventListener("wheel", function (e) {
    e.preventDefault();
    var b = e.deltaY < 0 ? 8 : 16;
    self.buttons |= b; self.pointer(e);
    self.buttons &= ~b; self.pointer(e);
  }, { passive: false });
};
