#!/usr/bin/env bash
# Mutation testing of the scope and workflow rules (issue 7, «A suite that catches broken rules»):
# mutmut changes permissions/*, models/workflow.py, models/scoring.py and models/rollup.py one small
# edit at a time and runs the tests that reach the edited function ([tool.mutmut] in pyproject.toml);
# a mutant that no test notices "survives". Results: bench/results/mutation.md.
#
# Not run in CI: a full run took about an hour and a half on 2 cores (see the results file).
#
#   bench/mutation.sh                          # run; results are kept in mutants/, so a rerun only
#                                              # retests the functions whose code changed
#   bench/mutation.sh --fresh                  # forget every earlier result first
#   bench/mutation.sh 'models.rollup*'         # only some mutants (mutmut's name globs)
#   MUTATION_CHILDREN=1 bench/mutation.sh      # fewer parallel workers (default 2)
#
# Then `.venv/bin/mutmut show <mutant>` prints a survivor's diff, `.venv/bin/mutmut browse` all of them.
set -euo pipefail
cd "$(dirname "$0")/.."

MUTMUT=${MUTMUT:-.venv/bin/mutmut}
if [[ "${1:-}" == "--fresh" ]]; then
    rm -rf mutants
    shift
fi
# The tests run on SQLite (in memory), whatever the shell's environment points at: each mutant
# starts a test database of its own, and parallel workers must not share one.
unset DATABASE_URL REDIS_URL REDIS_PREFIX

started=$(date +%s)
"$MUTMUT" run --max-children "${MUTATION_CHILDREN:-2}" "$@"
echo "mutmut run: $(( ($(date +%s) - started) / 60 )) min"

# Totals per module: mutant names read «module.x_function__mutmut_N» (methods: «module.xǁClassǁ…»).
echo
echo "module                               killed  survived  timeout  no tests  other"
"$MUTMUT" results --all true | awk -F': ' '
    NF == 2 {
        name = $1; gsub(/^ +/, "", name)
        module = name; sub(/\.x[_ǁ].*/, "", module)
        modules[module] = 1
        status = $2
        if (status == "killed") killed[module]++
        else if (status == "survived") survived[module]++
        else if (status == "timeout") timeout[module]++
        else if (status == "no tests") notests[module]++
        else other[module]++
    }
    END {
        for (m in modules) printf "%-36s %6d  %8d  %7d  %8d  %5d\n", m, killed[m], survived[m], timeout[m], notests[m], other[m]
    }' | sort
echo
echo "Survivors (mutmut show <name> for the diff):"
"$MUTMUT" results | sed -n 's/^ *\(.*\): survived$/  \1/p'
