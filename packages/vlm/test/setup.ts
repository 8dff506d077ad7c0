// Every test runs on the backend a VLM picks for itself (the fastest CPU one), so models made in a
// test and models loaded from disk share it.
import { useFastestBackend } from "../src/device.js";

await useFastestBackend();
