// SVG to PNG with sharp (librsvg): no browser needed.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";

/** Renders an SVG document to PNG bytes at `density` DPI (96: one SVG unit a pixel; 144: 1.5×, crisper text). */
export async function svgToPng(svg: string, density = 144): Promise<Buffer> {
  return sharp(Buffer.from(svg), { density }).png({ compressionLevel: 9 }).toBuffer();
}

/** Renders an SVG document and writes it as a PNG file, creating the folder. */
export async function writePng(svg: string, file: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await sharp(Buffer.from(svg), { density: 144 }).png({ compressionLevel: 9 }).toFile(file);
}

/** An image file as a PNG data URI scaled to `side` px with nearest-neighbour (the shapes world's pixels stay sharp). */
export async function imageDataUri(file: string, side: number): Promise<string> {
  const png = await sharp(file)
    .resize(side, side, { kernel: "nearest", fit: "contain", background: "#ffffff" })
    .png()
    .toBuffer();
  return `data:image/png;base64,${png.toString("base64")}`;
}
