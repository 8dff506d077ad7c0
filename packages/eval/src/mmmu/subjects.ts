/** MMMU's short subject names to the names in its ids, in data_utils.py's order (the order evaluation runs in). */
export const MMMU_CAT_SHORT2LONG: Readonly<Record<string, string>> = {
  acc: "Accounting",
  agri: "Agriculture",
  arch: "Architecture_and_Engineering",
  art: "Art",
  art_theory: "Art_Theory",
  bas_med: "Basic_Medical_Science",
  bio: "Biology",
  chem: "Chemistry",
  cli_med: "Clinical_Medicine",
  cs: "Computer_Science",
  design: "Design",
  diag_med: "Diagnostics_and_Laboratory_Medicine",
  econ: "Economics",
  elec: "Electronics",
  ep: "Energy_and_Power",
  fin: "Finance",
  geo: "Geography",
  his: "History",
  liter: "Literature",
  manage: "Manage",
  mark: "Marketing",
  mate: "Materials",
  math: "Math",
  mech: "Mechanical_Engineering",
  music: "Music",
  phar: "Pharmacy",
  phys: "Physics",
  psy: "Psychology",
  pub_health: "Public_Health",
  socio: "Sociology",
};

/** MMMU's six disciplines and their subjects, in data_utils.py's order (DOMAIN_CAT2SUB_CAT). */
export const MMMU_DISCIPLINES: Readonly<Record<string, readonly string[]>> = {
  "Art and Design": ["Art", "Art_Theory", "Design", "Music"],
  Business: ["Accounting", "Economics", "Finance", "Manage", "Marketing"],
  Science: ["Biology", "Chemistry", "Geography", "Math", "Physics"],
  "Health and Medicine": [
    "Basic_Medical_Science",
    "Clinical_Medicine",
    "Diagnostics_and_Laboratory_Medicine",
    "Pharmacy",
    "Public_Health",
  ],
  "Humanities and Social Science": ["History", "Literature", "Sociology", "Psychology"],
  "Tech and Engineering": [
    "Agriculture",
    "Architecture_and_Engineering",
    "Computer_Science",
    "Electronics",
    "Energy_and_Power",
    "Materials",
    "Mechanical_Engineering",
  ],
};

/** The subject an MMMU id names, as main_eval_only.py reads it: "validation_Art_Theory_12" → "Art_Theory". */
export function subjectOfId(id: string): string {
  return id.split("_").slice(1, -1).join("_");
}

/** Option letters and the letter → option text map, as get_multi_choice_info builds them ("A", "B", …). */
export function multiChoiceInfo(options: readonly string[]): {
  allChoices: string[];
  index2ans: Record<string, string>;
} {
  const allChoices: string[] = [];
  const index2ans: Record<string, string> = {};
  options.forEach((option, i) => {
    const letter = String.fromCharCode(65 + i);
    allChoices.push(letter);
    index2ans[letter] = option;
  });
  return { allChoices, index2ans };
}
