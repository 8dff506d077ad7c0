// Every op as a function (the Tensor methods forward here; src/index.ts binds them into the class).
export { empty as emptyOn, isDense } from "./core.js";
export * from "./elementwise.js";
export * from "./indexing.js";
export * from "./linalg.js";
export * from "./nn.js";
export * from "./reduce.js";
export * from "./shape.js";
