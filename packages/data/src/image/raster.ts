/**
 * A tiny RGB rasterizer with coverage-based anti-aliasing. A pixel's coverage is estimated from the
 * signed distance of its centre to the outline (clamped 0.5 − d), the analytic area for an edge
 * crossing the pixel. Only +, −, ×, ÷ and sqrt are used (correctly rounded in IEEE 754), so the same
 * inputs give the same bytes on every machine.
 */
export class RgbImage {
  readonly data: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = new Uint8Array(width * height * 3);
  }

  /** Fills every pixel with one colour. */
  fill(rgb: readonly [number, number, number]): void {
    const d = this.data;
    for (let i = 0; i < d.length; i += 3) {
      d[i] = rgb[0];
      d[i + 1] = rgb[1];
      d[i + 2] = rgb[2];
    }
  }

  /** The [r, g, b] at pixel (x, y). */
  pixel(x: number, y: number): [number, number, number] {
    const i = (y * this.width + x) * 3;
    return [this.data[i], this.data[i + 1], this.data[i + 2]];
  }

  /**
   * Blends `rgb` into every pixel by the coverage of the shape whose signed distance (in pixels,
   * negative inside) `sdf` gives, within the bounding box [x0, x1) × [y0, y1).
   */
  paint(
    sdf: (x: number, y: number) => number,
    rgb: readonly [number, number, number],
    box: { x0: number; y0: number; x1: number; y1: number },
  ): void {
    const x0 = Math.max(0, Math.floor(box.x0));
    const y0 = Math.max(0, Math.floor(box.y0));
    const x1 = Math.min(this.width, Math.ceil(box.x1));
    const y1 = Math.min(this.height, Math.ceil(box.y1));
    const d = this.data;
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const coverage = 0.5 - sdf(x + 0.5, y + 0.5);
        if (coverage <= 0) continue;
        const a = Math.min(coverage, 1);
        const i = (y * this.width + x) * 3;
        d[i] = Math.round(d[i] + (rgb[0] - d[i]) * a);
        d[i + 1] = Math.round(d[i + 1] + (rgb[1] - d[i + 1]) * a);
        d[i + 2] = Math.round(d[i + 2] + (rgb[2] - d[i + 2]) * a);
      }
    }
  }
}

/** The signed distance function of a circle (negative inside). */
export function circleSdf(cx: number, cy: number, r: number): (x: number, y: number) => number {
  return (x, y) => {
    const dx = x - cx;
    const dy = y - cy;
    return Math.sqrt(dx * dx + dy * dy) - r;
  };
}

/** The signed distance function of a simple polygon, convex or not (negative inside). */
export function polygonSdf(points: readonly (readonly [number, number])[]): (x: number, y: number) => number {
  const n = points.length;
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  return (px, py) => {
    let best = Number.POSITIVE_INFINITY;
    let inside = false;
    for (let i = 0, j = n - 1; i < n; j = i++) {
      const ex = xs[j] - xs[i];
      const ey = ys[j] - ys[i];
      const wx = px - xs[i];
      const wy = py - ys[i];
      let t = (wx * ex + wy * ey) / (ex * ex + ey * ey);
      t = Math.max(0, Math.min(1, t));
      const bx = wx - ex * t;
      const by = wy - ey * t;
      const dist = bx * bx + by * by;
      if (dist < best) best = dist;
      // Even–odd crossing test on a horizontal ray.
      if (ys[i] > py !== ys[j] > py && px < ((xs[j] - xs[i]) * (py - ys[i])) / (ys[j] - ys[i]) + xs[i])
        inside = !inside;
    }
    const d = Math.sqrt(best);
    return inside ? -d : d;
  };
}
