// Wire types of BuildKit's control API and of fsutil's file transfer, reduced to the fields we use. Field numbers are
// those of BuildKit v0.8 (vendored by dockerd 20.10) and unchanged since; later fields are left out.
// https://github.com/moby/buildkit/blob/v0.8.3/api/services/control/control.proto
// https://github.com/tonistiigi/fsutil/blob/master/types/wire.proto and types/stat.proto
import protobuf from 'protobufjs'

const CONTROL_PROTO = `
syntax = "proto3";
package moby.buildkit.v1;
message SolveRequest {
  string Ref = 1;
  string Exporter = 3;
  map<string, string> ExporterAttrs = 4;
  string Session = 5;
  string Frontend = 6;
  map<string, string> FrontendAttrs = 7;
  CacheOptions Cache = 8;
  repeated string Entitlements = 9;
}
message CacheOptions { repeated CacheOptionsEntry Exports = 4; repeated CacheOptionsEntry Imports = 5; }
message CacheOptionsEntry { string Type = 1; map<string, string> Attrs = 2; }
message SolveResponse { map<string, string> ExporterResponse = 1; }
message StatusRequest { string Ref = 1; }
message BytesMessage { bytes data = 1; }
message ListWorkersResponse { repeated WorkerRecord record = 1; }
message WorkerRecord { string ID = 1; repeated Platform platforms = 3; }
message Platform { string Architecture = 1; string OS = 2; string Variant = 3; }
`

const FSUTIL_PROTO = `
syntax = "proto3";
package fsutil.types;
message Stat {
  string path = 1; uint32 mode = 2; uint32 uid = 3; uint32 gid = 4; int64 size = 5; int64 modTime = 6;
  string linkname = 7; int64 devmajor = 8; int64 devminor = 9; map<string, bytes> xattrs = 10;
}
message Packet { int32 type = 1; Stat stat = 2; uint32 ID = 3; bytes data = 4; }
`

export interface CacheEntry {
  Type: string
  Attrs: Record<string, string>
}
export interface SolveRequest {
  Ref: string
  Exporter: string
  ExporterAttrs: Record<string, string>
  Session: string
  Frontend: string
  FrontendAttrs: Record<string, string>
  Cache: { Exports: CacheEntry[]; Imports: CacheEntry[] }
  Entitlements: string[]
}

/** fsutil's file metadata; `mode` holds Go's `os.FileMode` bits (directory = 1<<31, symlink = 1<<27). */
export interface Stat {
  path: string
  mode: number
  uid: number
  gid: number
  size: number
  modTime: number
  linkname?: string
}
export interface Packet {
  type: number
  stat?: Stat
  ID?: number
  data?: Uint8Array
}
/** fsutil's `Packet.PacketType`. */
export const PACKET = { STAT: 0, REQ: 1, DATA: 2, FIN: 3, ERR: 4 } as const
/** Go's `os.ModeDir`, `os.ModeSymlink` and the mask of the type bits (`os.ModeType`). */
export const GO_MODE = { DIR: 0x80000000, SYMLINK: 0x08000000, TYPE: 0x8f280000 } as const

const control = protobuf.parse(CONTROL_PROTO).root
const fsutil = protobuf.parse(FSUTIL_PROTO).root
const type = (root: protobuf.Root, name: string) => root.lookupType(name)
const solveRequest = type(control, 'moby.buildkit.v1.SolveRequest')
const solveResponse = type(control, 'moby.buildkit.v1.SolveResponse')
const statusRequest = type(control, 'moby.buildkit.v1.StatusRequest')
const bytesMessage = type(control, 'moby.buildkit.v1.BytesMessage')
const listWorkersResponse = type(control, 'moby.buildkit.v1.ListWorkersResponse')
const packet = type(fsutil, 'fsutil.types.Packet')

const encode = (t: protobuf.Type, v: object) => t.encode(t.fromObject(v)).finish()

export const encodeSolveRequest = (r: SolveRequest) => encode(solveRequest, r)
export const encodeStatusRequest = (ref: string) => encode(statusRequest, { Ref: ref })
export const encodeBytes = (data: Uint8Array) => encode(bytesMessage, { data })
export const encodePacket = (p: Packet) => Buffer.from(encode(packet, p))

export function decodeSolveResponse(b: Uint8Array): Record<string, string> {
  const o = solveResponse.toObject(solveResponse.decode(b), { defaults: true }) as {
    ExporterResponse: Record<string, string>
  }
  return o.ExporterResponse
}
/** The platforms of each worker (`ListWorkersResponse`; pb.Platform's fields inlined), the native one first. */
export function decodeWorkerPlatforms(
  b: Uint8Array,
): { os: string; arch: string; variant: string }[][] {
  const o = listWorkersResponse.toObject(listWorkersResponse.decode(b), { defaults: true }) as {
    record: { platforms: { Architecture: string; OS: string; Variant: string }[] }[]
  }
  return o.record.map((r) =>
    r.platforms.map((p) => ({ os: p.OS, arch: p.Architecture, variant: p.Variant })),
  )
}
export function decodeBytes(b: Uint8Array): Buffer {
  return Buffer.from((bytesMessage.decode(b) as unknown as { data: Uint8Array }).data)
}
export function decodePacket(b: Uint8Array): Packet {
  return packet.toObject(packet.decode(b), { longs: Number, defaults: true }) as Packet
}
