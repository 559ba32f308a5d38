"""The README's worked example of "Using your own tables" runs as written and
prints what the README shows (§8 acceptance).

Each ```sql block of that section runs, in order, in one database, through
psql; each plain ``` block that follows it must appear, line for line, in that
block's output (spacing of psql's columns and psql's "psql:file:line:" error
prefix aside).
"""
import os
import re
import subprocess
import tempfile
import unittest

from test.support import drop_database, recreate_database

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DB = "kpi_readme"
SECTION = ("### Worked example", "### Columns and types")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.S | re.M)


def normalize(text):
    """Lines without psql's error prefix, trailing spaces and runs of spaces."""
    lines = []
    for line in text.splitlines():
        line = re.sub(r"^psql:[^:]*:\d+: ", "", line)
        line = re.sub(r" +", " ", line).strip()
        if line:
            lines.append(line)
    return lines


def worked_example():
    """[(sql, [expected outputs])] of the README section, in order."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    start = readme.index(SECTION[0])
    section = readme[start:readme.index(SECTION[1], start)]
    steps = []
    for match in FENCE.finditer(section):
        language, body = match.groups()
        if language == "sql":
            steps.append((body, []))
        elif steps:
            steps[-1][1].append(body)
    return steps


def contains(output, expected):
    """Is expected a contiguous run of output's lines?"""
    return any(output[i:i + len(expected)] == expected for i in range(len(output) - len(expected) + 1))


class ReadmeWorkedExample(unittest.TestCase):
    def setUp(self):
        recreate_database(DB)

    def tearDown(self):
        drop_database(DB)

    def test_runs_as_written(self):
        steps = worked_example()
        # 7 SQL blocks, 6 of them with the output they print
        self.assertEqual([len(outputs) for _, outputs in steps], [1, 1, 1, 1, 1, 1, 0])
        for number, (sql, outputs) in enumerate(steps, start=1):
            with tempfile.NamedTemporaryFile("w", suffix=".sql", encoding="utf-8") as f:
                f.write(sql)
                f.flush()
                run = subprocess.run(["psql", "-X", "-d", DB, "-f", f.name], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
            output = normalize(run.stdout)
            for expected in outputs:
                self.assertTrue(contains(output, normalize(expected)),
                                "README block %d does not print what the README shows:\n%s\n--- got:\n%s"
                                % (number, expected, run.stdout))


if __name__ == "__main__":
    unittest.main()
