/** Colour only on a terminal, and never with NO_COLOR set (https://no-color.org). */
export function useColour(stream: NodeJS.WriteStream): boolean {
  return Boolean(stream.isTTY) && !process.env.NO_COLOR;
}

export function paint(stream: NodeJS.WriteStream, code: number, text: string): string {
  return useColour(stream) ? `\u001b[${code}m${text}\u001b[0m` : text;
}

/** A line for the user on stderr, never mixed into the command's data on stdout. */
export function note(message: string): void {
  process.stderr.write(`${message}\n`);
}

export function warn(message: string): void {
  process.stderr.write(`${paint(process.stderr, 33, "warning:")} ${message}\n`);
}

const marks = {
  pass: ["PASS", 32],
  warn: ["WARN", 33],
  fail: ["FAIL", 31],
  skip: ["SKIP", 2],
} as const;

/** A check's outcome as doctor and webhook status print it: PASS, WARN, FAIL or SKIP, in colour on a terminal. */
export function statusMark(stream: NodeJS.WriteStream, status: keyof typeof marks): string {
  const [mark, colour] = marks[status];
  return paint(stream, colour, mark);
}
