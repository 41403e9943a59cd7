// Types for seek-bzip 2.0.0 (no bundled types): the part modelgate calls.
declare module 'seek-bzip' {
  interface OutputStream {
    writeByte(b: number): void;
  }
  const Bunzip: {
    decode(input: Uint8Array, output: OutputStream, multistream?: boolean): void;
  };
  export default Bunzip;
}
