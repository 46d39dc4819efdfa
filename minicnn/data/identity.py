"""Which dataset a file is: the published digests of MNIST, Fashion-MNIST and CIFAR-10.

A loader hashes the bytes it reads (the unzipped bytes of an IDX file, a CIFAR-10 batch as it
lies in the folder) and compares the digest with the published one. When it differs, the
table below tells whether the bytes are another dataset's file (say Fashion-MNIST's images
in a directory passed as MNIST's): that is always refused, with its name, even under
``verify=False``, which only admits files that match no published file (your own data).

Sources. Fashion-MNIST: SHA-256 of the unzipped files of zalandoresearch/fashion-mnist (as
Debian's dataset-fashion-mnist ships them). MNIST: SHA-256 of the unzipped files of LeCun's
.gz (the ones torchvision's MD5s check), as listed alike by several independent projects.
CIFAR-10: the MD5 of each file of the extracted cifar-10-batches-py (torchvision's
published values; no SHA-256 of the batches is published).
"""
import hashlib

SHA256 = {
    "Fashion-MNIST": {
        "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"},
    "MNIST": {
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"},
}
MD5 = {
    "CIFAR-10": {
        "data_batch_1": "c99cafc152244af753f735de768cd75f",
        "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
        "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
        "data_batch_4": "634d18415352ddfa80567beed471001a",
        "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
        "test_batch": "40351d587109b95175f43aff81a1287e"},
}
TABLES = {"sha256": SHA256, "md5": MD5}


def identify(digest, algorithm="sha256"):
    """'MNIST's t10k-images-idx3-ubyte' for a published digest, else None."""
    for dataset, files in TABLES[algorithm].items():
        for name, known in files.items():
            if known == digest:
                return f"{dataset}'s {name}"
    return None


class WrongDatasetError(ValueError):
    """A file that is another dataset's published file (Fashion-MNIST's where MNIST's should be)."""


def check_identity(raw, dataset, name, path, verify, expected, algorithm="sha256", hint=""):
    """Refuse ``raw`` (the bytes of ``path``, the file ``name`` of ``dataset``) when it is another
    dataset's published file, or, with ``verify``, when its digest is not ``expected`` (None: no
    published digest to check against)."""
    from .download import ChecksumError
    got = hashlib.new(algorithm, raw).hexdigest()
    if got == expected:
        return
    other = identify(got, algorithm)
    if other is not None:
        raise WrongDatasetError(f"{path}: expected {dataset}'s {name}, but these bytes are {other} "
                                f"({algorithm.upper()} {got}); point root= (--data-dir) at the {dataset} files "
                                f"or choose the dataset these files belong to")
    if verify and expected is not None:
        raise ChecksumError(f"{path}: {algorithm.upper()} mismatch: expected {expected}, got {got}; the file is "
                            f"corrupt or not the published one (it matches no published file of "
                            f"{', '.join(sorted(set(SHA256) | set(MD5)))}). {hint}")
