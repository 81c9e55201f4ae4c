/**
 * The module layout rules of the packages' sources (`packages/*\/src/**\/*.ts`), read from their import statements
 * (and, for the last rule, their tests' too):
 *
 * - no circle of value imports (an `import type` or `export type … from` is erased from the JavaScript, so it makes
 *   no circle at run time; `import { type A }` is kept, as `verbatimModuleSyntax` keeps it, and counts as a value);
 * - values flow from `internal/` to the public modules only: an internal module takes no value from a public module
 *   of its package that imports it, directly or through others (types it may take);
 * - no package imports another package's `internal/` modules.
 */
import * as path from "node:path"
import ts from "typescript"

/** An import or re-export of one module by another. */
export interface Import {
  readonly specifier: string
  /** Erased from the JavaScript: `import type`, `export type … from`, `typeof import(…)`. */
  readonly typeOnly: boolean
}

/** Every module a source imports or re-exports, statically or with `import()`. */
export const importsOf = (fileName: string, text: string): ReadonlyArray<Import> => {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)
  const found: Array<Import> = []
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push({ specifier: node.moduleSpecifier.text, typeOnly: node.importClause?.isTypeOnly === true })
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push({ specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly })
    } else if (
      ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] !== undefined && ts.isStringLiteralLike(node.arguments[0])
    ) {
      found.push({ specifier: node.arguments[0].text, typeOnly: false })
    } else if (
      ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)
    ) {
      found.push({ specifier: node.argument.literal.text, typeOnly: true })
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

/** A module's package (`core`), whether it is private (`src/internal/`) and whether it is a source at all. */
const placeOf = (file: string) => {
  const [, name, folder, ...rest] = file.split("/")
  return { name: name!, source: folder === "src", internal: folder === "src" && rest[0] === "internal" }
}

/**
 * The source file a specifier names, among `files` (paths relative to the repository, `packages/<p>/src/…`): a
 * relative path (`./X.js` is `X.ts`), or `@effect-zego/<p>`, `@effect-zego/<p>/<Module>`, `@effect-zego/<p>/<path>`.
 */
export const resolve = (from: string, specifier: string, files: ReadonlySet<string>): string | undefined => {
  let target: string | undefined
  if (specifier.startsWith(".")) {
    target = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier))
  } else {
    const match = /^@effect-zego\/([a-z-]+)(?:\/(.+))?$/.exec(specifier)
    if (match === null) return undefined
    target = `packages/${match[1]}/src/${match[2] ?? "index"}`
  }
  const candidates = [target.replace(/\.js$/, ".ts"), `${target}.ts`, `${target}/index.ts`]
  return candidates.find((candidate) => files.has(candidate))
}

interface Edge {
  readonly to: string
  readonly typeOnly: boolean
}

/** The circles of a graph: its strongly connected components with more than one module, or a module importing itself. */
const circles = (graph: ReadonlyMap<string, ReadonlyArray<string>>): ReadonlyArray<ReadonlyArray<string>> => {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: Array<string> = []
  const onStack = new Set<string>()
  const found: Array<Array<string>> = []
  let next = 0
  const connect = (node: string): void => {
    index.set(node, next)
    low.set(node, next)
    next++
    stack.push(node)
    onStack.add(node)
    for (const to of graph.get(node) ?? []) {
      if (!index.has(to)) {
        connect(to)
        low.set(node, Math.min(low.get(node)!, low.get(to)!))
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node)!, index.get(to)!))
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: Array<string> = []
      let member: string
      do {
        member = stack.pop()!
        onStack.delete(member)
        component.push(member)
      } while (member !== node)
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component.sort())
    }
  }
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) connect(node)
  return found
}

/** Every module `from` reaches through `graph`. */
const reachable = (graph: ReadonlyMap<string, ReadonlyArray<string>>, from: string): ReadonlySet<string> => {
  const seen = new Set<string>()
  const queue = [from]
  while (queue.length > 0) {
    for (const to of graph.get(queue.pop()!) ?? []) {
      if (!seen.has(to)) {
        seen.add(to)
        queue.push(to)
      }
    }
  }
  return seen
}

/** What breaks the rules in `sources` (path relative to the repository → text), one sentence each. */
export const problems = (sources: ReadonlyMap<string, string>): ReadonlyArray<string> => {
  const files = new Set(sources.keys())
  const edges = new Map<string, ReadonlyArray<Edge>>()
  const found: Array<string> = []
  for (const [file, text] of sources) {
    const resolved: Array<Edge> = []
    for (const { specifier, typeOnly } of importsOf(file, text)) {
      const to = resolve(file, specifier, files)
      if (to === undefined) continue
      resolved.push({ to, typeOnly })
      const [from, target] = [placeOf(file), placeOf(to)]
      if (target.internal && from.name !== target.name) {
        found.push(`${file} imports ${to}: another package's internal module (import its public module instead)`)
      }
    }
    edges.set(file, resolved)
  }
  // The circles and the flow of values are the sources' own: nothing imports a test.
  const ofSources = [...edges].filter(([file]) => placeOf(file).source)
  const valueGraph = new Map(ofSources.map(([file, list]) => [file, list.filter((e) => !e.typeOnly).map((e) => e.to)]))
  const anyGraph = new Map(ofSources.map(([file, list]) => [file, list.map((e) => e.to)]))
  for (const circle of circles(valueGraph)) found.push(`a circle of value imports: ${circle.join(" → ")}`)
  for (const [file, list] of ofSources) {
    const place = placeOf(file)
    if (!place.internal) continue
    for (const { to, typeOnly } of list) {
      const target = placeOf(to)
      if (typeOnly || target.internal || target.name !== place.name) continue
      if (reachable(anyGraph, to).has(file)) {
        found.push(`${file} takes a value from ${to}, a public module over it: values flow from internal/ to public`)
      }
    }
  }
  return [...new Set(found)].sort()
}
