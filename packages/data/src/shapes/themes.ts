/**
 * Themes give the world its co-occurrence statistics: a scene drawn from a theme usually holds the
 * theme's core objects together. A model that leans on that prior instead of looking hallucinates
 * the usual partner, the language shortcut POPE's adversarial split measures.
 */
export interface Theme {
  name: string;
  /** Relative probability of drawing this theme. */
  weight: number;
  /** Objects ("red circle") that usually appear together in this theme's scenes. */
  core: string[];
}

/** The default themes: five with partners that co-occur, one with none. */
export const DEFAULT_THEMES: readonly Theme[] = [
  { name: "traffic", weight: 1, core: ["red circle", "yellow circle", "green circle"] },
  { name: "garden", weight: 1, core: ["green triangle", "pink star", "brown square"] },
  { name: "ocean", weight: 1, core: ["blue diamond", "blue hexagon", "yellow star"] },
  { name: "night", weight: 1, core: ["purple hexagon", "yellow star", "blue circle"] },
  { name: "market", weight: 1, core: ["orange square", "brown hexagon", "red diamond"] },
  { name: "mixed", weight: 1, core: [] },
];
