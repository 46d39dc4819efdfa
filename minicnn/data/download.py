"""Finding dataset files on disk, fetching them, and checking their digests.

An explicit ``root`` is the only place looked in (the directory itself, then ``root/<name>``,
then torchvision's ``root/<ClassName>/raw``): files missing there are an error, never a
silent fall-back to another copy. Without a root, the search order for dataset ``<name>``
("fashion-mnist", "mnist", "cifar-10") is:

1. ``$MINICNN_DATA/<name>``, then ``$MINICNN_DATA`` itself,
2. ``~/.cache/minicnn/<name>`` (where ``download=True`` writes when no root is given),
3. ``/usr/share/datasets/<name>`` (Debian's ``dataset-fashion-mnist`` package).

Downloads stream through ``urlopen`` with a tqdm bar into a temporary file in the target
directory, are checked against the upstream MD5, and only then renamed into place
(``os.replace``), so an interrupted fetch never leaves a half file under the real name.
"""
import hashlib
import os
import tempfile
from urllib.request import Request, urlopen

CACHE_DIR = os.path.join("~", ".cache", "minicnn")
SYSTEM_DIR = os.path.join(os.sep, "usr", "share", "datasets")
_CHUNK = 1 << 20


class ChecksumError(ValueError):
    """A file's digest differs from the published one."""


def search_dirs(name, root=None, class_name=None):
    """[(directory, why)] in search order (see the module docstring): only root's when it is given."""
    dirs = []
    if root is not None:
        root = os.path.expanduser(os.fspath(root))
        dirs += [(root, "root"), (os.path.join(root, name), "root")]
        if class_name:
            dirs.append((os.path.join(root, class_name, "raw"), "root, torchvision layout"))
        return dirs
    env = os.environ.get("MINICNN_DATA")
    if env:
        env = os.path.expanduser(env)
        dirs += [(os.path.join(env, name), "$MINICNN_DATA"), (env, "$MINICNN_DATA")]
    dirs.append((os.path.join(os.path.expanduser(CACHE_DIR), name), "cache"))
    dirs.append((os.path.join(SYSTEM_DIR, name), "system"))
    seen, unique = set(), []
    for d, why in dirs:
        key = os.path.abspath(d)
        if key not in seen:
            seen.add(key)
            unique.append((d, why))
    return unique


def download_dir(name, root=None):
    """Where ``download=True`` writes: root, else $MINICNN_DATA/<name>, else ~/.cache/minicnn/<name>."""
    if root is not None:
        return os.path.expanduser(os.fspath(root))
    env = os.environ.get("MINICNN_DATA")
    if env:
        return os.path.join(os.path.expanduser(env), name)
    return os.path.join(os.path.expanduser(CACHE_DIR), name)


def file_digest(path, algorithm="md5"):
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_digest(data_or_path, expected, algorithm, path, refetch_hint):
    """Raise ChecksumError naming the path, both digests and how to fetch the file again."""
    if isinstance(data_or_path, (bytes, bytearray, memoryview)):
        got = hashlib.new(algorithm, data_or_path).hexdigest()
    else:
        got = file_digest(data_or_path, algorithm)
    if got != expected:
        raise ChecksumError(f"{path}: {algorithm.upper()} mismatch: expected {expected}, got {got}; "
                            f"the file is corrupt or not the published one. {refetch_hint}")


def fetch(urls, target, md5=None, progress=True):
    """Download the first of ``urls`` that works to ``target``, checking ``md5``; atomic write.

    Tries each mirror in turn. If none gives the file: ChecksumError when every mirror served
    bytes with the wrong MD5, else OSError; both list every mirror's failure."""
    directory = os.path.dirname(os.path.abspath(target))
    os.makedirs(directory, exist_ok=True)
    failures, mismatches = [], 0
    for url in urls:
        try:
            tmp = _stream_to_temp(url, directory, os.path.basename(target), progress)
        except OSError as e:  # URLError, HTTPError and socket errors are OSErrors
            failures.append(f"{url}: {e}")
            continue
        if md5 is not None:
            got = file_digest(tmp, "md5")
            if got != md5:
                os.remove(tmp)
                mismatches += 1
                failures.append(f"{url}: MD5 mismatch: expected {md5}, got {got}")
                continue
        os.replace(tmp, target)
        return target
    message = (f"could not fetch {target}:\n  " + "\n  ".join(failures) + "\nNothing was written. ")
    if mismatches == len(failures):
        raise ChecksumError(message + "The download was corrupted or the mirror changed its file: run "
                            "again with download=True to re-fetch, or put a verified copy there yourself.")
    raise OSError(message + "Check the network (or a proxy: $https_proxy) and run again with download=True, "
                  "or put the file there yourself.")


def _stream_to_temp(url, directory, basename, progress):
    from tqdm.auto import tqdm

    request = Request(url, headers={"User-Agent": "minicnn"})
    fd, tmp = tempfile.mkstemp(prefix=f".{basename}.", suffix=".part", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out, urlopen(request, timeout=60) as response:
            total = response.headers.get("Content-Length") if getattr(response, "headers", None) else None
            with tqdm(total=int(total) if total else None, unit="B", unit_scale=True, unit_divisor=1024,
                      desc=basename, disable=not progress, leave=False) as bar:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    out.write(chunk)
                    bar.update(len(chunk))
    except BaseException:
        os.remove(tmp)
        raise
    return tmp
