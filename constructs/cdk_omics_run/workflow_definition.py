"""A workflow folder read at synth time: its main file, its engine, and a digest of its content.

Pure Python, no CDK: the construct (``workflow``) turns what this finds into
an asset and a resource. The main file is chosen as HealthOmics chooses it
when ``main`` is left out (user guide, "Package and supply a HealthOmics
workflow definition", ZIP archive layout): among the definition files nearest
the archive's root, hidden files and folders ignored, the only one, or else
the one named ``main.wdl``, ``main.nf`` or ``main.cwl``. Choosing it here
means the choice is made once, named in the template, and a folder with no
clear main fails at synth, listing the candidates, instead of at deploy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cdk_omics_run.arguments import ArgumentError

# Definition files by extension, and the engine each names (CreateWorkflow's engine enum).
ENGINE_OF_EXTENSION = {".wdl": "WDL", ".nf": "NEXTFLOW", ".cwl": "CWL"}
# WDL_LENIENT reads the same files as WDL (CreateWorkflow's engine documentation).
EXTENSIONS_OF_ENGINE = {"WDL": (".wdl",), "WDL_LENIENT": (".wdl",), "NEXTFLOW": (".nf",), "CWL": (".cwl",)}
MAIN_NAMES = ("main.wdl", "main.nf", "main.cwl")
# A ZIP archive in Amazon S3 (definitionUri) holds at most 100 MB; the quota cannot be raised
# (user guide, "Package and supply a HealthOmics workflow definition").
MAX_DEFINITION_BYTES = 100 * 1000 * 1000


@dataclass(frozen=True)
class WorkflowFolder:
    """What the construct needs of a workflow folder: every file, the main one, and the engine."""

    root: Path
    files: tuple[PurePosixPath, ...]
    main: PurePosixPath
    engine: str
    total_bytes: int

    def digest(self) -> str:
        """A SHA-256 of every file's path and bytes: it changes when, and only when, a file does."""
        hashed = hashlib.sha256()
        for relative in self.files:
            hashed.update(str(relative).encode("utf-8") + b"\0")
            hashed.update(hashlib.sha256((self.root / relative).read_bytes()).digest())
        return hashed.hexdigest()


def read_folder(where: str, path: str | Path, *, main: str | None = None, engine: str | None = None) -> WorkflowFolder:
    """Reads the folder; raises ArgumentError (``where`` names the construct) when no main file can be chosen.

    >>> folder = read_folder("Stack/Workflow", "examples/workflows/cram-to-bam")  # doctest: +SKIP
    >>> (str(folder.main), folder.engine)  # doctest: +SKIP
    ('main.wdl', 'WDL')
    """
    root = Path(path)
    if not root.is_dir():
        raise ArgumentError(f"{where}: argument path: got {str(path)!r}; allowed: a folder holding the workflow")
    files = tuple(sorted(_files_under(root)))
    chosen = _main_file(where, files, main, engine)
    inferred = ENGINE_OF_EXTENSION.get(chosen.suffix.lower())
    if engine is None and inferred is None:
        raise ArgumentError(
            f"{where}: argument engine: cannot be inferred from main {str(chosen)!r}; "
            f"allowed: one of {', '.join(EXTENSIONS_OF_ENGINE)}"
        )
    total = sum((root / relative).stat().st_size for relative in files)
    return WorkflowFolder(root, files, chosen, engine or str(inferred), total)


def _files_under(root: Path) -> Iterable[PurePosixPath]:
    for entry in root.rglob("*"):
        if entry.is_file():
            yield PurePosixPath(entry.relative_to(root).as_posix())


def _is_hidden(relative: PurePosixPath) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def _main_file(where: str, files: tuple[PurePosixPath, ...], main: str | None, engine: str | None) -> PurePosixPath:
    extensions = EXTENSIONS_OF_ENGINE.get(engine or "", tuple(ENGINE_OF_EXTENSION))
    definitions = [f for f in files if f.suffix.lower() in extensions and not _is_hidden(f)]
    if main is not None:
        wanted = PurePosixPath(main)
        if wanted in files:
            return wanted
        raise ArgumentError(
            f"{where}: argument main: got {main!r}, which is not in the folder; allowed: {_listed(definitions)}"
        )
    if not definitions:
        raise ArgumentError(
            f"{where}: argument path: the folder holds no workflow definition file "
            f"({', '.join(extensions)}); allowed: a folder with a main .wdl, .nf or .cwl file"
        )
    nearest = min(len(f.parts) for f in definitions)
    candidates = [f for f in definitions if len(f.parts) == nearest]
    if len(candidates) == 1:
        return candidates[0]
    named_main = [f for f in candidates if f.name.lower() in MAIN_NAMES]
    engines = {ENGINE_OF_EXTENSION[f.suffix.lower()] for f in candidates}
    if len(named_main) == 1 and len(engines) == 1:
        return named_main[0]
    raise ArgumentError(
        f"{where}: argument main: several definition files could be the main one and none is chosen as "
        f"HealthOmics would (the only one nearest the root, or one named main.wdl, main.nf or main.cwl); "
        f"allowed: main= one of {_listed(candidates)}"
    )


def _listed(files: Iterable[PurePosixPath]) -> str:
    names = [repr(str(f)) for f in files]
    return ", ".join(names) if names else "none found"


__all__ = ["MAX_DEFINITION_BYTES", "WorkflowFolder", "read_folder"]
