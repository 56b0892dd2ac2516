// Text bound for a terminal: model output (titles, log tails, feedback, harness text) may carry
// escape sequences that retitle the window, rewrite earlier lines, hide text or plant links.
// Everything the CLI prints goes through `plainText`; only the CLI's own screen clear does not.

/** ESC sequences: CSI (…m, …H, …J), OSC (…BEL or …ST), DCS/SOS/PM/APC strings, and two-byte ones. */
const ESCAPES =
  /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[PX^_][^\x1b]*(?:\x1b\\)?|[@-Z\\-_])|\x9b[0-?]*[ -/]*[@-~]|\x9d[^\x07\x9c]*(?:\x07|\x9c)?/g;
/** Any other C0 or C1 control character but tab and newline (a lone ESC, CR, backspace, BEL). */
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

export function plainText(text: string): string {
  return text.replace(ESCAPES, "").replace(CONTROLS, "");
}

/** Clears the screen and homes the cursor: the one sequence the CLI writes itself. */
export const CLEAR_SCREEN = "\x1b[H\x1b[2J";
