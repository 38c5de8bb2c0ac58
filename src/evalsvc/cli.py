"""Command line: evalsvc check | serve | codes | token | report | rescore | demo | paper |
import | export | sync.

Each command parses its arguments here and calls into the package; no logic of
its own beyond formatting what it prints. Every command takes `--db PATH`, before
or after its name, to work on that database instead of EVALSVC_DB's.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from evalsvc.catalog import load_paths
from evalsvc.domain.access import ROLES
from evalsvc.domain.lint import describe_lint, lint_course, lint_problems
from evalsvc.domain.programme import Programme
from evalsvc.domain.questionnaire import Course, missing_translations
from evalsvc.errors import EvalsvcError
from evalsvc.settings import Settings, settings_from_env

DB_HELP = (
    "the database: a SQLite file (or sqlite:///PATH) or postgresql://user:pass@host/db"
    " (default: EVALSVC_DB, else var/evalsvc.sqlite3)"
)


def main(argv: list[str] | None = None) -> int:
    # --db is accepted before the command and after it; SUPPRESS keeps a subcommand's
    # parser from overwriting a value given before the command with its default
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=argparse.SUPPRESS, help=DB_HELP)
    parser = argparse.ArgumentParser(
        prog="evalsvc", description=__doc__.splitlines()[0], parents=[common]
    )
    commands = _Commands(parser.add_subparsers(dest="command", required=True), common)

    check = commands.add_parser("check", help="validate questionnaire and programme definitions")
    check.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="folders of courses (and programmes/), course folders or programme files"
        " (default: EVALSVC_SURVEYS, else surveys)",
    )
    check.add_argument("--missing", action="store_true", help="list every missing translation")
    check.add_argument(
        "--strict", action="store_true", help="treat test-design warnings as problems (exit 1)"
    )
    check.set_defaults(run=run_check)

    serve = commands.add_parser("serve", help="run the web service (uvicorn, one worker)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(run=run_serve)

    codes = commands.add_parser("codes", help="participant codes")
    codes_commands = _Commands(codes.add_subparsers(dest="codes_command", required=True), common)
    issue = codes_commands.add_parser("issue", help="create codes; prints one per line")
    issue.add_argument("course")
    issue.add_argument("--count", type=int, required=True)
    issue.add_argument("--agency", help="bind the codes to this agency")
    issue.add_argument("--out", type=Path, help="also write printable cut-out cards (HTML)")
    issue.add_argument("--url", help="the form address printed on the cards")
    issue.add_argument(
        "--lang",
        type=_languages,
        help="card languages in print order, e.g. ru,kk,en (default: the course's, its"
        " default language first)",
    )
    issue.set_defaults(run=run_codes_issue)

    token = commands.add_parser("token", help="evaluator and analyst access tokens")
    token_commands = _Commands(token.add_subparsers(dest="token_command", required=True), common)
    create = token_commands.add_parser("create", help="create a token; prints it on the last line")
    create.add_argument(
        "--role",
        choices=ROLES,
        required=True,
        help="evaluator: course and programme reports; analyst: also participant-level data;"
        " donor: programme aggregates only; sync: only pushes a venue laptop's data to this"
        " server (evalsvc sync push)",
    )
    create.add_argument("--name", required=True)
    create.add_argument(
        "--course",
        action="append",
        dest="courses",
        metavar="ID",
        help="limit the token to this course (repeat for several); without --course and"
        " --programme, every course and programme",
    )
    create.add_argument(
        "--programme",
        action="append",
        dest="programmes",
        metavar="ID",
        help="reach this programme (repeat for several); evaluators and analysts also reach"
        " its courses; a donor token needs one",
    )
    create.add_argument(
        "--agency-type",
        action="append",
        dest="agency_types",
        metavar="TYPE",
        help="evaluators only: show only the rows of agencies of this type (and the totals)",
    )
    create.set_defaults(run=run_token_create)
    listing = token_commands.add_parser("list", help="list tokens (never their values)")
    listing.set_defaults(run=run_token_list)
    revoke = token_commands.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(run=run_token_revoke)

    report = commands.add_parser("report", help="write a report from the database, offline")
    report.add_argument("course", nargs="?", help="the course (or give --programme)")
    report.add_argument("--programme", help="a programme's report instead of a course's")
    report.add_argument("--format", choices=("json", "csv", "xlsx", "html", "pdf"), required=True)
    report.add_argument("--out", type=Path, required=True)
    report.add_argument("--table", default="summary", help="which table --format csv writes")
    report.add_argument("--lang", help="language of names and titles")
    report.set_defaults(run=run_report)

    rescore = commands.add_parser(
        "rescore", help="rescore submissions scored under other rules (a changed answer key)"
    )
    rescore.add_argument("course")
    rescore.add_argument("--dry-run", action="store_true", help="report, change nothing")
    rescore.set_defaults(run=run_rescore)

    demo = commands.add_parser("demo", help="fill the database with a synthetic cohort")
    demo.add_argument("course", nargs="?", help="the course (or give --programme)")
    demo.add_argument(
        "--programme", help="fill every course of a programme (each with its own cohort)"
    )
    demo.add_argument("--participants", type=int, default=60)
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--if-empty", action="store_true", help="do nothing if data exists")
    demo.set_defaults(run=run_demo)

    add_data_commands(commands)

    sync = commands.add_parser("sync", help="send a venue laptop's data to a central server")
    sync_commands = _Commands(sync.add_subparsers(dest="sync_command", required=True), common)
    push = sync_commands.add_parser(
        "push", help="send every code and submission the server does not have yet"
    )
    push.add_argument("--to", required=True, metavar="URL", help="the server, e.g. https://...")
    push.add_argument("--token", required=True, help="a token of the sync role on that server")
    push.add_argument(
        "--course",
        action="append",
        dest="courses",
        metavar="ID",
        help="send only this course (repeat for several); without it, every course",
    )
    push.add_argument(
        "--retries", type=int, default=5, help="tries again this often when the server is away"
    )
    push.add_argument(
        "--batch",
        type=int,
        default=200,
        metavar="N",
        help="at most N submissions per request (smaller for a poor connection)",
    )
    push.set_defaults(run=run_sync_push)

    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except EvalsvcError as exc:
        print(f"evalsvc: {exc}", file=sys.stderr)
        return 1


class _Commands:
    """Subcommand parsers that all take the common options (--db)."""

    def __init__(self, subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser):
        self.subparsers = subparsers
        self.common = common

    def add_parser(self, name: str, help: str) -> argparse.ArgumentParser:  # noqa: A002
        parser: argparse.ArgumentParser = self.subparsers.add_parser(
            name, parents=[self.common], help=help
        )
        return parser


def _languages(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def settings_for(args: argparse.Namespace) -> Settings:
    """EVALSVC_* settings, with the command line's --db over EVALSVC_DB."""
    settings = settings_from_env()
    db = getattr(args, "db", None)
    if db is not None:
        settings = settings.with_database(db)
    return settings


def run_check(args: argparse.Namespace) -> int:
    result = load_paths(args.paths or list(settings_from_env().survey_folders))
    lints = {course_id: lint_course(course) for course_id, course in result.courses.items()}
    warnings = [
        warning
        for course_id, lint in lints.items()
        for warning in lint_problems(
            lint, result.item_files[course_id], result.course_files[course_id]
        )
    ]
    problems = [*result.problems, *(warnings if args.strict else [])]
    if problems:
        print(f"{len(problems)} problem(s):", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    if warnings:
        print(f"{len(warnings)} test-design warning(s):", file=sys.stderr)
        for warning in warnings:
            print(f"  warning: {warning}", file=sys.stderr)
    for course in result.courses.values():
        print(describe_course(course))
        print(f"  {describe_lint(lints[course.id])}")
        if args.missing:
            for lang, labels in missing_translations(course).items():
                for label in labels:
                    print(f"    missing {lang}: {label}")
    for programme in result.programmes.values():
        print(describe_programme(programme))
    return 0


def run_serve(args: argparse.Namespace) -> int:
    from evalsvc import commands

    return commands.serve(settings_for(args), args.host, args.port, args.log_level)


def run_codes_issue(args: argparse.Namespace) -> int:
    from evalsvc import commands

    if not 1 <= args.count <= 100_000:
        print("evalsvc: --count must be between 1 and 100000", file=sys.stderr)
        return 2
    issued = commands.issue_codes(
        settings_for(args), args.course, args.count, args.agency, args.out, args.url, args.lang
    )
    for code in issued:
        print(code)
    if args.out:
        print(f"wrote {len(issued)} cards to {args.out}", file=sys.stderr)
    return 0


def run_token_create(args: argparse.Namespace) -> int:
    from evalsvc import commands

    settings = settings_for(args)
    token_id, token = commands.create_token(
        settings,
        args.role,
        args.name,
        args.courses,
        programmes=args.programmes,
        agency_types=args.agency_types,
    )
    scope = commands.token_scope(
        settings, args.role, args.courses, args.programmes, args.agency_types
    )
    print(
        f"created {args.role} token {token_id} for {args.name!r} ({scope.describe()});"
        " it is shown only once:"
    )
    print(token)
    return 0


def run_token_list(args: argparse.Namespace) -> int:
    from evalsvc import commands

    for record in commands.list_tokens(settings_for(args)):
        state = f"revoked {record.revoked_at}" if record.revoked_at else "active"
        print(
            f"{record.id}\t{record.role}\t{record.name}\t{record.scope.describe()}"
            f"\tcreated {record.created_at}\t{state}"
        )
    return 0


def run_token_revoke(args: argparse.Namespace) -> int:
    from evalsvc import commands

    if not commands.revoke_token(settings_for(args), args.id):
        print(f"evalsvc: no active token with id {args.id}", file=sys.stderr)
        return 1
    print(f"revoked token {args.id}")
    return 0


def run_sync_push(args: argparse.Namespace) -> int:
    from evalsvc import commands

    if not 1 <= args.batch <= 1000 or not 0 <= args.retries <= 100:
        print("evalsvc: --batch must be 1..1000 and --retries 0..100", file=sys.stderr)
        return 2
    report = commands.sync_push(
        settings_for(args), args.to, args.token, args.courses, args.retries, args.batch
    )
    print(
        f"pushed to {args.to}: {report.sent} sent, {report.already_there} already there,"
        f" {len(report.conflicts)} conflicted, {len(report.rejected)} rejected;"
        f" codes: {report.codes_added} added, {report.codes_already_there} already there"
    )
    if report.rescored:
        print(
            f"  {report.rescored} of those sent were scored at the venue under other rules:"
            " the server rescored them with its course files"
        )
    for outcome in report.conflicts:
        print(
            f"  conflict {outcome.course} {outcome.phase} {outcome.submission_id}: {outcome.reason}"
        )
    for outcome in report.rejected:
        print(
            f"  rejected {outcome.course} {outcome.phase} {outcome.submission_id}: {outcome.reason}"
        )
    for problem in report.codes_rejected:
        print(f"  code rejected {problem}")
    return 1 if report.rejected or report.codes_rejected else 0


def run_report(args: argparse.Namespace) -> int:
    from evalsvc import commands

    if (args.course is None) == (args.programme is None):
        print("evalsvc: give a course or --programme ID (one of them)", file=sys.stderr)
        return 2
    if args.programme is not None:
        commands.write_programme_report(
            settings_for(args), args.programme, args.format, args.out, args.table, args.lang
        )
        return 0
    commands.write_report(
        settings_for(args), args.course, args.format, args.out, args.table, args.lang
    )
    return 0


def run_rescore(args: argparse.Namespace) -> int:
    from evalsvc import commands

    report = commands.rescore(settings_for(args), args.course, args.dry_run)
    would = "would be rescored" if args.dry_run else "rescored"
    print(
        f"{report.rescored} submission(s) {would}; {report.changed_scores} with a different"
        " knowledge or confidence score"
    )
    for example in report.examples:
        print(f"  {example}")
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from evalsvc import commands

    if not 1 <= args.participants <= 200_000:
        print("evalsvc: --participants must be between 1 and 200000", file=sys.stderr)
        return 2
    if (args.course is None) == (args.programme is None):
        print("evalsvc: give a course or --programme ID (one of them)", file=sys.stderr)
        return 2
    if args.programme is not None:
        stored = commands.demo_programme(
            settings_for(args), args.programme, args.participants, args.seed, args.if_empty
        )
    else:
        stored = commands.demo(
            settings_for(args), args.course, args.participants, args.seed, args.if_empty
        )
    print(f"demo: {stored} submissions stored" if stored else "demo: data already present, kept it")
    return 0


# -- data in and out: paper, XLSForm (issue 15) ---------------------------------------------


def add_data_commands(commands: _Commands) -> None:
    paper = commands.add_parser(
        "paper", help="print a phase as a paper questionnaire (PDF), or its CSV template"
    )
    paper.add_argument("course")
    paper.add_argument("phase")
    paper.add_argument("--lang", help="language of the questionnaire (default: the course's)")
    paper.add_argument("--out", type=Path, help="file to write (template: default stdout)")
    paper.add_argument(
        "--template", action="store_true", help="write the CSV to type the answers into"
    )
    paper.set_defaults(run=run_paper)

    imports = commands.add_parser("import", help="import answers or questionnaires")
    import_commands = imports.add_subparsers(dest="import_command", required=True)
    typed = import_commands.add_parser(
        "paper", help="store typed-in paper questionnaires (CSV from --template)"
    )
    typed.add_argument("course")
    typed.add_argument("phase")
    typed.add_argument("file", type=Path)
    typed.add_argument("--second", type=Path, help="the same stack typed by someone else")
    typed.add_argument(
        "--conflicts", type=Path, help="where disagreements go (default FILE-conflicts.csv)"
    )
    typed.add_argument("--dry-run", action="store_true", help="check every row, store nothing")
    typed.set_defaults(run=run_import_paper)
    forms = import_commands.add_parser(
        "xlsform", help="turn the XLSForms of a course's phases into a course folder"
    )
    forms.add_argument("files", nargs="+", type=Path, metavar="FILE")
    forms.add_argument("--course-id", required=True)
    forms.add_argument("--out", type=Path, required=True, help="the course folder to write")
    forms.add_argument(
        "--phase", action="append", default=[], metavar="FILE=PHASE", help="a file's phase"
    )
    forms.set_defaults(run=run_import_xlsform)

    exports = commands.add_parser("export", help="export a course for other tools")
    export_commands = exports.add_subparsers(dest="export_command", required=True)
    xlsform = export_commands.add_parser(
        "xlsform", help="one XLSForm per phase, for KoboToolbox or ODK"
    )
    xlsform.add_argument("course")
    xlsform.add_argument("--out", type=Path, required=True, help="folder for the .xlsx files")
    xlsform.set_defaults(run=run_export_xlsform)


def run_export_xlsform(args: argparse.Namespace) -> int:
    from evalsvc import commands
    from evalsvc.exports import xlsform

    course = commands.find_course(settings_for(args), args.course)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, content in xlsform.course_xlsforms(course).items():
        (args.out / name).write_bytes(content)
        print(args.out / name)
    return 0


def run_import_xlsform(args: argparse.Namespace) -> int:
    from evalsvc import xlsform_import

    overrides = xlsform_import.phase_overrides(args.phase)
    xlsform_import.check_course_id(args.course_id, args.out)
    forms = [xlsform_import.read_xlsform(path) for path in args.files]
    result = xlsform_import.import_xlsforms(forms, args.course_id, overrides)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for path in xlsform_import.write_folder(result, args.out):
        print(path)
    if result.todos:
        print(
            f"{result.todos} TODO marker(s) to fill in (grep TODO); `evalsvc check"
            f" {args.out}` lists them",
            file=sys.stderr,
        )
    return 0


def run_paper(args: argparse.Namespace) -> int:
    from evalsvc import commands

    content = commands.paper_questionnaire(
        settings_for(args), args.course, args.phase, args.lang, args.template
    )
    if isinstance(content, str):
        if args.out is None:
            sys.stdout.write(content)
        else:
            args.out.write_text(content, encoding="utf-8")
        return 0
    out = args.out or Path(f"{args.course}-{args.phase}-{args.lang or 'default'}.pdf")
    out.write_bytes(content)
    print(f"wrote {out}", file=sys.stderr)
    return 0


def run_import_paper(args: argparse.Namespace) -> int:
    from evalsvc import commands

    result = commands.import_paper(
        settings_for(args),
        args.course,
        args.phase,
        args.file,
        args.second,
        args.conflicts,
        args.dry_run,
    )
    if result.disagreements:
        where = args.conflicts or commands.default_conflicts_path(args.file)
        rows = len({d.row for d in result.disagreements})
        print(
            f"{len(result.disagreements)} disagreement(s) in {rows} row(s) between the two"
            f" typings, written to {where}; nothing was stored. Correct the files and run"
            " the command again."
        )
        for d in result.disagreements:
            print(f"  row {d.row} ({d.code}) {d.item}: {d.first!r} / {d.second!r}")
        return 1
    counts = Counter(outcome.status for outcome in result.outcomes)
    for outcome in result.outcomes:
        if outcome.status == "rejected":
            for reason in outcome.reasons:
                print(f"  row {outcome.row} ({outcome.code or 'no code'}) rejected: {reason}")
    verb = "valid (dry run, nothing stored)" if args.dry_run else "stored"
    counted = counts["valid"] if args.dry_run else counts["stored"]
    print(
        f"{args.file}: {counted} {verb}, {counts['already_there']} already there,"
        f" {counts['rejected']} rejected"
    )
    return 1 if counts["rejected"] else 0


def describe_programme(programme: Programme) -> str:
    countries = sorted({c.country for c in programme.courses})
    years = sorted({c.year for c in programme.courses})
    return (
        f"ok programme {programme.id}: {len(programme.courses)} courses in"
        f" {', '.join(countries)}, {', '.join(map(str, years))}; framework"
        f" {', '.join(programme.skill_ids())}; {len(programme.agency_types)} agency types;"
        f" {len(programme.indicators)} indicators"
    )


def describe_course(course: Course) -> str:
    roles = Counter(item.role for item in course.items)
    skills = Counter(item.skill for item in course.items if item.role == "knowledge")
    languages = []
    for lang, labels in missing_translations(course).items():
        languages.append(f"{lang} complete" if not labels else f"{lang} {len(labels)} missing")
    role_text = ", ".join(f"{role} {roles[role]}" for role in sorted(roles))
    skill_text = ", ".join(f"{skill} {skills[skill]}" for skill in course.skill_ids())
    return (
        f"ok {course.id}: {len(course.items)} items ({role_text}); "
        f"knowledge per skill: {skill_text}; languages: {'; '.join(languages)}"
    )


if __name__ == "__main__":
    sys.exit(main())
