#!/usr/bin/python3
"""Check 5: every step a Dockerfile runs before `COPY . .` has the files it reads.

A build stage copies a few files first (the package list) so that its slow
install layer stays cached while the sources change. A script run in that
layer that reads a file not copied yet fails only inside `docker build`,
twenty minutes in. For each Dockerfile under deploy/docker/, this check:

- lists the files each stage has copied from the context at every RUN that
  comes before the stage's `COPY . .`;
- fails when such a RUN names a file or folder of the checkout (a script,
  a lock file) that the stage has not copied yet;
- runs every project script such a RUN calls (`bash scripts/X.sh ARGS`) in
  a folder that holds only the copied files, with BITSWEEP_DEPS_DRY_RUN=1 so
  that it installs nothing: a script that reads a file the stage lacks fails
  here, in seconds, as it would in the image.

usage: dockerfile_steps_test.py REPO_ROOT
"""

import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploy_files as d  # noqa: E402


def instructions(dockerfile):
    """(keyword, arguments) per instruction, continuation lines joined and
    comments dropped."""
    result, pending = [], ""
    with open(dockerfile) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if pending and line.lstrip().startswith("#"):
                continue  # a comment inside a continued instruction
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            text = (pending + line).strip()
            pending = ""
            keyword, _, rest = text.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def copy_sources(arguments):
    """The context paths of a COPY (None for a COPY --from=another stage)."""
    words = shlex.split(arguments)
    if any(w.startswith("--from") for w in words):
        return None
    words = [w for w in words if not w.startswith("--")]
    return words[:-1]


def project_script_calls(command):
    """`bash scripts/X.sh ARGS` pieces of a RUN command, as argument lists
    (plain words only: the calls the Dockerfiles make take no quoting)."""
    return [[script] + args.split()
            for script, args in re.findall(r"\b(?:bash|sh)\s+([A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-/]+)((?:[ \t]+[A-Za-z0-9_.=\-]+)*)",
                                           command)]


def repo_paths_named(command):
    """Words of a RUN command that name a file or folder of the checkout."""
    named = []
    for word in re.findall(r"[A-Za-z0-9_.\-/]+", command):
        if "/" in word and not word.startswith("/") and os.path.exists(d.path(word)):
            named.append(word.rstrip("/"))
    return named


def check_stage_step(failures, dockerfile, copied, command):
    where = "%s: RUN %s" % (d.rel(dockerfile), command[:70])
    for named in repo_paths_named(command):
        covered = any(named == c or named.startswith(c.rstrip("/") + "/") for c in copied)
        failures.check(covered, "%s: names %s, which the stage has not copied yet (only %s)" %
                       (where, named, ", ".join(copied) or "nothing"))
    calls = project_script_calls(command)
    if not calls:
        return
    with tempfile.TemporaryDirectory() as context:
        for source in copied:
            target = os.path.join(context, source)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if os.path.isdir(d.path(source)):
                shutil.copytree(d.path(source), target)
            else:
                shutil.copy2(d.path(source), target)
        for call in calls:
            if not os.path.exists(os.path.join(context, call[0])):
                continue  # already reported above as not copied
            env = dict(os.environ, BITSWEEP_DEPS_DRY_RUN="1")
            run = subprocess.run(["bash"] + call, cwd=context, env=env, capture_output=True, text=True,
                                 timeout=60)
            failures.check(run.returncode == 0,
                           "%s: `bash %s` fails with only the copied files (%s), exit %d:\n%s" %
                           (where, " ".join(call), ", ".join(copied), run.returncode,
                            (run.stdout + run.stderr).strip()[-2000:]))


def check_dockerfile(failures, dockerfile):
    copied, before_everything, steps = [], True, 0
    for keyword, arguments in instructions(dockerfile):
        if keyword == "FROM":
            copied, before_everything = [], True  # a new stage starts with nothing
        elif keyword in ("COPY", "ADD"):
            sources = copy_sources(arguments)
            if sources is None:
                continue
            if "." in sources or "./" in sources:
                before_everything = False
            copied += [s.rstrip("/") for s in sources]
        elif keyword == "RUN" and before_everything:
            steps += 1
            check_stage_step(failures, dockerfile, copied, arguments)
    return steps


def main():
    d.init(sys.argv[1])
    failures = d.Failures()
    dockerfiles = sorted(glob.glob(d.path("deploy", "docker", "Dockerfile*")))
    failures.check(dockerfiles, "no Dockerfile under deploy/docker/")
    checked = 0
    for dockerfile in dockerfiles:
        checked += check_dockerfile(failures, dockerfile)
    # The check itself must have looked at something: the CPU image's
    # install step runs before its `COPY . .`.
    failures.check(checked > 0, "no RUN before a `COPY . .` found: the check checked nothing")
    print("%d step(s) before `COPY . .` checked in %d Dockerfile(s)" % (checked, len(dockerfiles)))
    failures.exit()


if __name__ == "__main__":
    main()
