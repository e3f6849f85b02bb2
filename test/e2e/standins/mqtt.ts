/**
 * A minimal MQTT 3.1.1 client for the stand-in tests
 * (https://docs.oasis-open.org/mqtt/mqtt/v3.1.1/os/mqtt-v3.1.1-os.html):
 * CONNECT/CONNACK, PUBLISH at QoS 0 or 1 (awaiting PUBACK), SUBSCRIBE/SUBACK,
 * incoming PUBLISH (acknowledged at QoS 1), DISCONNECT. It runs over any
 * connected socket (here: a TLS socket with a client certificate).
 *
 * Not a general client: no QoS 2, no retained-message or will options, no
 * keep-alive pings (keep-alive is sent as given; tests are shorter), no
 * reconnects, no persistence. Every wait is bounded by `timeoutMs`.
 *
 * const mqtt = new MqttClient(tlsSocket);
 * await mqtt.connect({ clientId: 'c1' });       // throws unless CONNACK is 0
 * await mqtt.publish('sensors/temp', '21', 1);  // resolves on PUBACK
 * await mqtt.disconnect();
 */
import { Duplex } from 'stream';

/** CONNACK return codes (MQTT 3.1.1 §3.2.2.3). */
export const CONNACK_CODES: Record<number, string> = {
  0: 'accepted',
  1: 'unacceptable protocol version',
  2: 'identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
};

export interface MqttConnectOptions {
  readonly clientId: string;
  /** @default none */
  readonly username?: string;
  /** @default none */
  readonly password?: string;
  /** @default 30 */
  readonly keepAliveSeconds?: number;
  /** @default true */
  readonly cleanSession?: boolean;
}

/** A message the server delivered. */
export interface MqttMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: number;
}

interface Packet {
  readonly type: number;
  readonly flags: number;
  readonly body: Buffer;
}

function encodeLength(n: number): Buffer {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte += 128;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

function str(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function packet(firstByte: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([firstByte]), encodeLength(body.length), body]);
}

/** Reads one packet from the front of `buf`, or undefined when incomplete. */
function readPacket(buf: Buffer): { packet: Packet; rest: Buffer } | undefined {
  if (buf.length < 2) return undefined;
  let length = 0;
  let multiplier = 1;
  let i = 1;
  for (;;) {
    if (i >= buf.length) return undefined;
    const byte = buf[i++];
    length += (byte % 128) * multiplier;
    if (byte < 128) break;
    multiplier *= 128;
    if (i > 4) throw new Error('malformed remaining length');
  }
  if (buf.length < i + length) return undefined;
  return {
    packet: { type: Math.floor(buf[0] / 16), flags: buf[0] % 16, body: buf.subarray(i, i + length) },
    rest: buf.subarray(i + length),
  };
}

/** An MQTT 3.1.1 session over one connected socket. */
export class MqttClient {
  /** Messages received on subscriptions, in order. */
  public readonly messages: MqttMessage[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  private nextId = 1;
  private closedError: Error | undefined;
  private readonly waiters: Array<{ match: (p: Packet) => boolean; resolve: (p: Packet) => void; reject: (e: Error) => void }> = [];
  private readonly messageWaiters: Array<() => void> = [];

  constructor(private readonly socket: Duplex, private readonly timeoutMs = 5000) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    const closed = (e?: Error) => this.fail(e ?? new Error('connection closed by the server'));
    socket.once('error', closed);
    socket.once('close', () => closed());
  }

  /** Sends CONNECT; resolves on CONNACK 0, rejects with the return code otherwise. */
  async connect(options: MqttConnectOptions): Promise<{ sessionPresent: boolean }> {
    let flags = options.cleanSession === false ? 0 : 0x02;
    const payload = [str(options.clientId)];
    if (options.username !== undefined) {
      flags += 0x80;
      payload.push(str(options.username));
    }
    if (options.password !== undefined) {
      flags += 0x40;
      payload.push(str(options.password));
    }
    const body = Buffer.concat([str('MQTT'), Buffer.from([4, flags]), u16(options.keepAliveSeconds ?? 30), ...payload]);
    const ack = this.expect('CONNACK', (p) => p.type === 2);
    this.socket.write(packet(0x10, body));
    const p = await ack;
    const code = p.body[1];
    if (code !== 0) throw new Error(`MQTT CONNACK return code ${code} (${CONNACK_CODES[code] ?? 'unknown'})`);
    return { sessionPresent: (p.body[0] % 2) === 1 };
  }

  /** Publishes; at QoS 1 resolves on PUBACK. */
  async publish(topic: string, payload: string | Buffer, qos: 0 | 1 = 0): Promise<void> {
    const data = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
    if (qos === 0) {
      this.socket.write(packet(0x30, Buffer.concat([str(topic), data])));
      return;
    }
    const id = this.packetId();
    const ack = this.expect(`PUBACK ${id}`, (p) => p.type === 4 && p.body.readUInt16BE(0) === id);
    this.socket.write(packet(0x32, Buffer.concat([str(topic), u16(id), data])));
    await ack;
  }

  /** Subscribes; resolves with the granted QoS, rejects when the server refuses (0x80). */
  async subscribe(topic: string, qos: 0 | 1 = 0): Promise<number> {
    const id = this.packetId();
    const ack = this.expect(`SUBACK ${id}`, (p) => p.type === 9 && p.body.readUInt16BE(0) === id);
    this.socket.write(packet(0x82, Buffer.concat([u16(id), str(topic), Buffer.from([qos])])));
    const granted = (await ack).body[2];
    if (granted === 0x80) throw new Error(`MQTT SUBACK refused the subscription to ${topic}`);
    return granted;
  }

  /** Resolves once a message on `topic` has arrived (or already had). */
  async nextMessage(topic: string): Promise<MqttMessage> {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const m = this.messages.find((x) => x.topic === topic);
      if (m) return m;
      if (this.closedError) throw this.closedError;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no MQTT message on ${topic} within ${this.timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.messageWaiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  }

  /** Sends DISCONNECT and ends the socket. */
  async disconnect(): Promise<void> {
    if (!this.closedError && !this.socket.destroyed) {
      await new Promise<void>((resolve) => this.socket.end(packet(0xe0, Buffer.alloc(0)), () => resolve()));
    }
    this.socket.destroy();
  }

  private packetId(): number {
    const id = this.nextId;
    this.nextId = this.nextId === 0xffff ? 1 : this.nextId + 1;
    return id;
  }

  private expect(what: string, match: (p: Packet) => boolean): Promise<Packet> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`no MQTT ${what} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      const waiter = {
        match,
        resolve: (p: Packet) => { clearTimeout(timer); resolve(p); },
        reject: (e: Error) => { clearTimeout(timer); reject(e); },
      };
      this.waiters.push(waiter);
    });
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      let next;
      try {
        next = readPacket(this.buffer);
      } catch (e) {
        this.socket.destroy(e as Error);
        return;
      }
      if (!next) return;
      this.buffer = next.rest;
      this.onPacket(next.packet);
    }
  }

  private onPacket(p: Packet): void {
    if (p.type === 3) { // PUBLISH
      const qos = Math.floor(p.flags / 2) % 4;
      const topicLen = p.body.readUInt16BE(0);
      const topic = p.body.subarray(2, 2 + topicLen).toString('utf8');
      let at = 2 + topicLen;
      if (qos > 0) {
        this.socket.write(packet(0x40, p.body.subarray(at, at + 2))); // PUBACK with its packet id
        at += 2;
      }
      this.messages.push({ topic, payload: Buffer.from(p.body.subarray(at)), qos });
      for (const w of this.messageWaiters.splice(0)) w();
      return;
    }
    const i = this.waiters.findIndex((w) => w.match(p));
    if (i >= 0) this.waiters.splice(i, 1)[0].resolve(p);
  }

  private fail(e: Error): void {
    if (this.closedError) return;
    this.closedError = e;
    for (const w of this.waiters.splice(0)) w.reject(e);
    for (const w of this.messageWaiters.splice(0)) w();
  }
}
