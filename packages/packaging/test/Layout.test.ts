// The layout rules of the packages' sources (see layout.ts): no circle of value imports, values flow from internal/
// to the public modules only, no package imports another's internal/ modules. First the checker on a small made-up
// tree that breaks each rule (so that it is known to find them), then on the repository.
import { assert, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { importsOf, problems } from "./layout.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")

/** Every `.ts` file under `dir` (relative to the repository), with its text. */
const sourcesUnder = (dir: string, into: Map<string, string>): Map<string, string> => {
  if (!fs.existsSync(path.join(root, dir))) return into
  for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const file = `${dir}/${entry.name}`
    if (entry.isDirectory()) sourcesUnder(file, into)
    else if (file.endsWith(".ts")) into.set(file, fs.readFileSync(path.join(root, file), "utf8"))
  }
  return into
}

describe("the layout checker", () => {
  it("tells type-only imports (erased) from value ones, `import { type A }` included, which verbatimModuleSyntax keeps", () => {
    const text = [
      `import type { A } from "./A.js"`,
      `import { type B } from "./B.js"`,
      `import * as C from "./C.js"`,
      `export type { D } from "./D.js"`,
      `export * from "./E.js"`,
      `const f = () => import("./F.js")`,
      `type G = typeof import("./G.js")`
    ].join("\n")
    assert.deepStrictEqual(importsOf("x.ts", text).map((i) => `${i.specifier} ${i.typeOnly}`), [
      "./A.js true",
      "./B.js false",
      "./C.js false",
      "./D.js true",
      "./E.js false",
      "./F.js false",
      "./G.js true"
    ])
  })

  it("finds a circle of value imports, an internal module taking a value from its public module, a foreign internal import", () => {
    const tree = new Map([
      // A circle through a dynamic import and a kept `import { type … }`.
      ["packages/a/src/X.ts", `import * as Y from "./Y.js"`],
      ["packages/a/src/Y.ts", `const z = () => import("./Z.js")`],
      ["packages/a/src/Z.ts", `import { type X } from "./X.js"`],
      // A type-only way back is no circle.
      ["packages/a/src/P.ts", `import * as Q from "./Q.js"`],
      ["packages/a/src/Q.ts", `import type { P } from "./P.js"`],
      // The public module over internal/i.ts (a type import suffices) gives it a value: refused.
      ["packages/a/src/Pub.ts", `import type { I } from "./internal/i.js"`],
      ["packages/a/src/internal/i.ts", `import { value } from "../Pub.js"`],
      // Types from its public module, and values from a public module that does not import it: fine.
      ["packages/a/src/Pub2.ts", `import * as J from "./internal/j.js"`],
      ["packages/a/src/internal/j.ts", `import type { Pub2 } from "../Pub2.js"\nimport * as P from "../P.js"`],
      // Another package's internal module, from its sources or its tests.
      [
        "packages/b/src/Use.ts",
        `import * as I from "@effect-zego/a/internal/j"\nimport { Pub2 } from "@effect-zego/a"`
      ],
      ["packages/b/test/Use.test.ts", `import * as I from "../../a/src/internal/i.js"`],
      ["packages/a/src/index.ts", `export * as Pub2 from "./Pub2.js"`]
    ])
    assert.deepStrictEqual(problems(tree), [
      "a circle of value imports: packages/a/src/X.ts → packages/a/src/Y.ts → packages/a/src/Z.ts",
      "packages/a/src/internal/i.ts takes a value from packages/a/src/Pub.ts, a public module over it: values flow " +
      "from internal/ to public",
      "packages/b/src/Use.ts imports packages/a/src/internal/j.ts: another package's internal module (import its " +
      "public module instead)",
      "packages/b/test/Use.test.ts imports packages/a/src/internal/i.ts: another package's internal module (import " +
      "its public module instead)"
    ])
  })
})

describe("the packages' layout", () => {
  it("has no circle of value imports, values flow from internal/ to public, no package imports another's internal/", () => {
    const sources = new Map<string, string>()
    for (const name of fs.readdirSync(path.join(root, "packages"))) {
      sourcesUnder(`packages/${name}/src`, sources)
      sourcesUnder(`packages/${name}/test`, sources)
    }
    const modules = [...sources.keys()].filter((file) => file.includes("/src/"))
    // An empty scan would pass: the packages have about a hundred modules, a quarter of them internal.
    assert.isAbove(modules.length, 80)
    assert.isAbove(modules.filter((file) => file.includes("/src/internal/")).length, 20)
    assert.deepStrictEqual(problems(sources), [])
  })
})
