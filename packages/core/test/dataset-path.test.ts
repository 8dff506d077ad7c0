import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DatasetPathError, RecordError, resolveDatasetPath } from "../src/index.js";

/** A dataset folder with img/a.png, and a file outside it. */
function layout() {
  const base = mkdtempSync(path.join(tmpdir(), "sr2se-dataset-path-"));
  const root = path.join(base, "data");
  mkdirSync(path.join(root, "img"), { recursive: true });
  writeFileSync(path.join(root, "img", "a.png"), "png");
  writeFileSync(path.join(base, "secret.png"), "secret");
  return { base, root };
}

describe("resolveDatasetPath", () => {
  it("returns the absolute path of a path inside the folder, existing or not", () => {
    const { root } = layout();
    expect(resolveDatasetPath(root, "img/a.png")).toBe(path.join(root, "img", "a.png"));
    expect(resolveDatasetPath(root, "./img/../img/b.png")).toBe(path.join(root, "img", "b.png"));
    expect(resolveDatasetPath(root, "new/dir/c.png")).toBe(path.join(root, "new", "dir", "c.png"));
    expect(resolveDatasetPath(root, "..not-a-parent.png")).toBe(path.join(root, "..not-a-parent.png"));
  });

  it("refuses a path that climbs out with ..", () => {
    const { root } = layout();
    expect(() => resolveDatasetPath(root, "../secret.png")).toThrow(
      '"../secret.png" leaves the dataset folder',
    );
    expect(() => resolveDatasetPath(root, "img/../../secret.png")).toThrow(DatasetPathError);
    expect(() => resolveDatasetPath(root, "..")).toThrow(DatasetPathError);
    expect(() => resolveDatasetPath(root, ".")).toThrow(DatasetPathError);
  });

  it("refuses an absolute path, even one inside the folder", () => {
    const { root } = layout();
    expect(() => resolveDatasetPath(root, "/etc/hostname")).toThrow(
      '"/etc/hostname" leaves the dataset folder (an absolute path)',
    );
    expect(() => resolveDatasetPath(root, path.join(root, "img", "a.png"))).toThrow(DatasetPathError);
  });

  it("refuses a symlinked file or folder that leads outside the folder", () => {
    const { base, root } = layout();
    symlinkSync(path.join(base, "secret.png"), path.join(root, "img", "link.png"));
    symlinkSync(base, path.join(root, "up"));
    expect(() => resolveDatasetPath(root, "img/link.png")).toThrow(
      /leaves the dataset folder \(through a symlink/,
    );
    expect(() => resolveDatasetPath(root, "up/secret.png")).toThrow(DatasetPathError);
    expect(() => resolveDatasetPath(root, "up/not-yet.png")).toThrow(DatasetPathError);
  });

  it("refuses a dangling symlink that points outside the folder", () => {
    const { base, root } = layout();
    symlinkSync(path.join(base, "later.png"), path.join(root, "img", "dangling.png"));
    expect(() => resolveDatasetPath(root, "img/dangling.png")).toThrow(DatasetPathError);
  });

  it("accepts symlinks that stay inside, and a dataset folder that is itself reached through a symlink", () => {
    const { base, root } = layout();
    symlinkSync(path.join(root, "img", "a.png"), path.join(root, "alias.png"));
    expect(resolveDatasetPath(root, "alias.png")).toBe(path.join(root, "alias.png"));
    const linkedRoot = path.join(base, "linked-data");
    symlinkSync(root, linkedRoot);
    expect(resolveDatasetPath(linkedRoot, "img/a.png")).toBe(path.join(linkedRoot, "img", "a.png"));
  });

  it("with a source, throws a RecordError naming file, line and field", () => {
    const { root } = layout();
    const err = (() => {
      try {
        resolveDatasetPath(root, "../secret.png", { file: "pairs.jsonl", line: 7 });
      } catch (e) {
        return e as RecordError;
      }
    })();
    expect(err).toBeInstanceOf(RecordError);
    expect(err?.message).toBe('pairs.jsonl:7: field "image": "../secret.png" leaves the dataset folder');
    expect(err?.field).toBe("image");
    expect(() => resolveDatasetPath(root, "/x.png", { file: "s.jsonl", line: 2, field: "mask" })).toThrow(
      's.jsonl:2: field "mask": "/x.png" leaves the dataset folder (an absolute path)',
    );
  });
});
