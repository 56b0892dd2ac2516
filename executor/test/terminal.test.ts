// Model text printed by the CLI cannot drive the terminal: every escape and control sequence
// a hostile title, log tail or feedback might carry is removed on the way out.
import { afterEach, describe, expect, it, vi } from "vitest";
import { processIo } from "../src/commands/io";
import { CLEAR_SCREEN, plainText } from "../src/commands/terminal";

const HOSTILE = [
  "\x1b]0;pwned title\x07", // OSC window title, BEL-terminated
  "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\", // OSC 8 hyperlink, ST-terminated
  "\x1b[2J\x1b[H", // clear screen, home
  "\x1b[1A\x1b[2K", // up one line, erase it: rewrites what was printed before
  "\x1b[8mhidden\x1b[0m", // concealed text
  "\x1bP+q544e\x1b\\", // DCS query
  "\x9b31m", // 8-bit CSI
  "\x9d0;c1 title\x9c", // 8-bit OSC
  "a\rb\bc\x07d\x1be", // CR, backspace, BEL, a lone ESC
];

afterEach(() => vi.restoreAllMocks());

describe("terminal output", () => {
  it("plainText removes every escape and control sequence and keeps the words, tabs and newlines", () => {
    for (const s of HOSTILE) {
      const out = plainText(`before ${s} after\n\tnext`);
      expect(out, JSON.stringify(s)).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
      expect(out.startsWith("before ")).toBe(true);
      expect(out.endsWith(" after\n\tnext")).toBe(true);
    }
    expect(plainText("\x1b[8mhidden\x1b[0m")).toBe("hidden");
  });

  it("the CLI's stdout and stderr print model text plain; only its own screen clear passes", () => {
    const written: string[] = [];
    const capture = (t: string | Uint8Array) => {
      written.push(String(t));
      return true;
    };
    vi.spyOn(process.stdout, "write").mockImplementation(capture);
    vi.spyOn(process.stderr, "write").mockImplementation(capture);
    const io = processIo();
    for (const s of HOSTILE) {
      io.out(`title ${s}`);
      io.err(`error ${s}`);
    }
    for (const w of written)
      expect(w.slice(0, -1), JSON.stringify(w)).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    written.length = 0;
    io.out(CLEAR_SCREEN);
    expect(written).toEqual([CLEAR_SCREEN]);
  });
});
