// Random-access byte sources. Scanners read ranges, never whole files: a 20 GB checkpoint costs
// only the bytes its headers need.
import type { FileHandle } from 'node:fs/promises';

export interface ByteSource {
  readonly size: number;
  /** Up to `length` bytes at `offset` (fewer only at end of source). */
  read(offset: number, length: number): Promise<Uint8Array>;
}

export class BufferSource implements ByteSource {
  constructor(readonly bytes: Uint8Array) {}
  get size(): number {
    return this.bytes.length;
  }
  read(offset: number, length: number): Promise<Uint8Array> {
    const start = Math.min(Math.max(0, offset), this.bytes.length);
    return Promise.resolve(
      this.bytes.subarray(start, Math.min(this.bytes.length, start + Math.max(0, length))),
    );
  }
}

export class FileSource implements ByteSource {
  constructor(
    private readonly handle: FileHandle,
    readonly size: number,
  ) {}
  async read(offset: number, length: number): Promise<Uint8Array> {
    const n = Math.max(0, Math.min(length, this.size - offset));
    const buf = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      const { bytesRead } = await this.handle.read(buf, got, n - got, offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got === n ? buf : buf.subarray(0, got);
  }
}

/** A window of another source: a stored zip member or a tar entry, scanned in place. */
export class SliceSource implements ByteSource {
  constructor(
    private readonly parent: ByteSource,
    private readonly start: number,
    readonly size: number,
  ) {}
  read(offset: number, length: number): Promise<Uint8Array> {
    const start = Math.min(Math.max(0, offset), this.size);
    return this.parent.read(this.start + start, Math.min(length, this.size - start));
  }
}

/** Sequential reads with a block cache, for walking many small records (protobuf tags, tar headers). */
export class CachedReader {
  private block: Uint8Array = new Uint8Array(0);
  private blockStart = 0;
  constructor(
    readonly source: ByteSource,
    private readonly blockSize = 1 << 16,
  ) {}

  async bytes(offset: number, length: number): Promise<Uint8Array> {
    if (offset >= this.blockStart && offset + length <= this.blockStart + this.block.length) {
      return this.block.subarray(offset - this.blockStart, offset - this.blockStart + length);
    }
    if (length > this.blockSize) return this.source.read(offset, length);
    this.block = await this.source.read(offset, this.blockSize);
    this.blockStart = offset;
    return this.block.subarray(0, Math.min(length, this.block.length));
  }
}
