/** Resolves to a Node built-in module; the variable specifier keeps browser bundlers from resolving it. */
// biome-ignore lint/suspicious/noExplicitAny: each caller asserts the shape it uses
export function importNode(name: string): Promise<any> {
  return import(/* @vite-ignore */ name);
}
