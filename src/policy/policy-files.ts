/**
 * Turning a set of YAML files into one policy object, remembering where each part came from.
 *
 * A policy directory may split the policy over several files (a council may own `budgets.yaml`,
 * the data stewards `tables.yaml`). Top-level maps (`budgets`, `tables`, `access`) are merged entry
 * by entry; any other key, or a map entry, defined in two files is refused, naming both.
 * This module is pure: the caller reads the files.
 */
import { type Document, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { PolicyIssue } from './issues.ts';

/** One policy file as read from disk. */
export interface PolicyFile {
  readonly name: string;
  readonly text: string;
}

const MERGED_MAPS = new Set(['budgets', 'tables', 'access']);

interface ParsedFile {
  readonly name: string;
  readonly document: Document;
  readonly lines: LineCounter;
}

/** The merged policy, before validation, plus a way to locate any path in its source file. */
export interface MergedPolicy {
  readonly value: Record<string, unknown>;
  readonly issues: PolicyIssue[];
  locate(path: readonly (string | number)[]): Pick<PolicyIssue, 'file' | 'line' | 'column'>;
}

export function mergePolicyFiles(files: readonly PolicyFile[]): MergedPolicy {
  const issues: PolicyIssue[] = [];
  const value: Record<string, unknown> = {};
  /** `budgets` → file, `budgets.riverside` → file, ... */
  const origins = new Map<string, ParsedFile>();

  for (const file of files) {
    const parsed = parseFile(file, issues);
    if (!parsed) continue;
    const content: unknown = parsed.document.toJS();
    if (content === null || content === undefined) continue;
    if (typeof content !== 'object' || Array.isArray(content)) {
      issues.push({
        file: file.name,
        line: 1,
        column: 1,
        path: [],
        message: 'must be a mapping of policy keys',
      });
      continue;
    }
    for (const [key, entry] of Object.entries(content as Record<string, unknown>)) {
      mergeTopLevel({ key, entry, parsed, value, origins, issues });
    }
  }

  const locate = (path: readonly (string | number)[]) => {
    const [top, second] = path;
    const parsed =
      (second !== undefined ? origins.get(`${String(top)}.${String(second)}`) : undefined) ??
      origins.get(String(top));
    if (!parsed) return {};
    return { file: parsed.name, ...position(parsed, path) };
  };
  return { value, issues, locate };
}

function parseFile(file: PolicyFile, issues: PolicyIssue[]): ParsedFile | undefined {
  const lines = new LineCounter();
  const document = parseDocument(file.text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (document.errors.length === 0) return { name: file.name, document, lines };
  for (const error of document.errors) {
    const at = lines.linePos(error.pos[0]);
    issues.push({
      file: file.name,
      line: at.line,
      column: at.col,
      path: [],
      message: `not valid YAML: ${error.message.split('\n')[0]}`,
    });
  }
  return undefined;
}

function mergeTopLevel(options: {
  key: string;
  entry: unknown;
  parsed: ParsedFile;
  value: Record<string, unknown>;
  origins: Map<string, ParsedFile>;
  issues: PolicyIssue[];
}): void {
  const { key, entry, parsed, value, origins, issues } = options;
  const isMergeableMap =
    MERGED_MAPS.has(key) && entry !== null && typeof entry === 'object' && !Array.isArray(entry);
  if (!isMergeableMap) {
    const earlier = origins.get(key);
    if (earlier) {
      issues.push({
        file: parsed.name,
        ...position(parsed, [key]),
        path: [key],
        message: `is already set in ${earlier.name}; set it in one file only`,
      });
      return;
    }
    origins.set(key, parsed);
    value[key] = entry;
    return;
  }
  if (value[key] === undefined) value[key] = {};
  const target = value[key] as Record<string, unknown>;
  if (!origins.has(key)) origins.set(key, parsed);
  for (const [name, item] of Object.entries(entry as Record<string, unknown>)) {
    const earlier = origins.get(`${key}.${name}`);
    if (earlier) {
      issues.push({
        file: parsed.name,
        ...position(parsed, [key, name]),
        path: [key, name],
        message: `is already defined in ${earlier.name}; each ${singular(key)} may be defined once`,
      });
      continue;
    }
    origins.set(`${key}.${name}`, parsed);
    target[name] = item;
  }
}

function singular(key: string): string {
  return key === 'budgets' ? 'community budget' : key === 'tables' ? 'table' : 'role';
}

/** Line and column of the deepest node along `path` that exists in the file. */
function position(
  parsed: ParsedFile,
  path: readonly (string | number)[],
): { line?: number; column?: number } {
  let node: unknown = parsed.document.contents;
  let found = node;
  for (const step of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(step));
      if (!pair) break;
      node = pair.value;
      // Point at the key when the value is a collection or missing: that is where a reader looks.
      found = isMap(node) || isSeq(node) || !node ? pair.key : node;
    } else if (isSeq(node) && typeof step === 'number') {
      node = node.items[step];
      if (node === undefined) break;
      found = node;
    } else {
      break;
    }
  }
  const range = (found as { range?: [number, number, number] } | null)?.range;
  if (!range) return {};
  const at = parsed.lines.linePos(range[0]);
  return { line: at.line, column: at.col };
}
