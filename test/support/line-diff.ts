/**
 * The lines that differ between two texts, as one hunk of `diff` shows them: what was removed
 * and what was added between the common start and the common end. For asserting that an edit
 * touched exactly the lines it should.
 *
 * @example
 * expect(lineDiff(before, after)).toEqual({ removed: [], added: ["  podIamConfig:"] });
 */
export function lineDiff(before: string, after: string): { removed: string[]; added: string[] } {
  const a = before.split("\n");
  const b = after.split("\n");
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  return { removed: a.slice(start, endA), added: b.slice(start, endB) };
}
