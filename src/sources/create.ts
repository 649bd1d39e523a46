import { CommandSource } from "./command.js";
import { FileSource, StdinSource } from "./file.js";
import { SerialSource } from "./serial.js";
import { SimSource } from "./sim.js";
import type { Source } from "./source.js";
import { type SshOptions, SshSource } from "./ssh.js";
import { TcpSource } from "./tcp.js";
import type { SourceSpec } from "./uri.js";

/** What the command line adds to every SSH source. */
export interface SshDefaults {
  acceptNewHostKey?: boolean;
  passphrase?: SshOptions["passphrase"];
}

/** The source a spec describes. */
export function createSource(spec: SourceSpec, ssh: SshDefaults = {}): Source {
  switch (spec.kind) {
    case "serial":
      return new SerialSource(spec);
    case "ssh":
      return new SshSource({ ...spec, ...ssh });
    case "tcp":
      return new TcpSource(spec);
    case "cmd":
      return new CommandSource(spec);
    case "file":
      return new FileSource(spec);
    case "stdin":
      return new StdinSource();
    case "sim":
      return new SimSource(spec);
  }
}
