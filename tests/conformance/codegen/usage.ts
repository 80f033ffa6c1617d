// A web client's code on the generated types (codegen.mjs): compiled with tsc --strict, next to
// them, by tests/test_typescript_client.py. No scalar is mapped by hand: the generator types the
// custom scalars `unknown`, and every one a field answers is a JSON string (docs/scalars.md).
import type {
  InboxAction,
  InboxQuery,
  RollupRule,
  SavePerformanceMutationVariables,
  UploadEvidenceMutationVariables,
} from "./generated";

/** A JalaliDate, Decimal or DateTime as answered: a string, in the form its description gives. */
function text(value: unknown): string {
  if (typeof value !== "string") throw new TypeError(`expected a string, got ${typeof value}`);
  return value;
}

function todo(action: InboxAction | null): string {
  switch (action) {
    case "REGISTER_OR_REFER":
      return "ثبت عملکرد یا ارجاع";
    case "CORRECT":
      return "اصلاح";
    case "REVIEW":
      return "بررسی";
    case "WAIT":
      return "انتظار";
    case null:
      return "";
    default:
      return unreachable(action);
  }
}

/** Whether slice targets add up to the whole as the indicator's roll-up rule says (in 1/10000s). */
function slicesFit(rule: RollupRule, whole: string, slices: { target: string; weight: string }[]): boolean {
  const units = (decimal: string) => Math.round(Number(decimal) * 10_000);
  const targets = slices.map((s) => units(s.target));
  const weights = slices.map((s) => Number(s.weight));
  switch (rule) {
    case "SUM":
      return targets.reduce((a, b) => a + b, 0) === units(whole);
    case "AVERAGE":
      return Math.abs(targets.reduce((a, b) => a + b, 0) / targets.length - units(whole)) <= 1;
    case "WEIGHTED_AVERAGE": {
      const weighted = targets.reduce((sum, t, i) => sum + t * weights[i], 0);
      return Math.abs(weighted / weights.reduce((a, b) => a + b, 0) - units(whole)) <= 1;
    }
    default:
      return unreachable(rule);
  }
}

function unreachable(value: never): never {
  throw new Error(`unexpected ${String(value)}`);
}

export function rows(data: InboxQuery): string[] {
  return data.inbox.edges.map(({ node }) => {
    const slices = node.slices.map((s) => ({ target: text(s.target), weight: text(s.weight) }));
    const fits = slicesFit(node.assignment.indicator.rollup, text(node.target), slices);
    const saved = node.performance ? new Date(text(node.performance.updatedAt)).toISOString() : "";
    // Absolute: fetched as it is, from whatever host this page is served.
    const files = (node.performance?.evidence ?? []).map((e) => new URL(e.url).href);
    return [todo(node.inboxAction), text(node.deadline), text(node.target), fits, saved, ...files].join(" | ");
  });
}

export const save: SavePerformanceMutationVariables = {
  input: { referral: "UmVmZXJyYWw6MQ==", version: 0, value: "36.5" },
};

export function attach(referral: string, file: Blob): UploadEvidenceMutationVariables {
  return { input: { referral, file } };
}
