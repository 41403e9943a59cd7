"""Drive the real model_signing library where its CLI has no flag (shards, other hash algorithms).

Usage: python model_signing_api.py '<json>' with keys:
  action: "sign" | "verify"; model; signature; method: "files" | "shards"; hash: "sha256" | "blake2" | "blake3";
  shard_size; private_key; signing_certificate; certificate_chain (list); public_key; ca (list);
  ignore_paths (list, absolute); ignore_git_paths (default true: false signs .git* as 1.0.x did).
Exit 0 on success, 1 with the error on stderr otherwise.
"""
import json
import pathlib
import sys

from model_signing import hashing, signing, verifying


def hashing_config(args):
    ignore = [pathlib.Path(p) for p in args.get("ignore_paths", [])]
    if args.get("method", "files") == "shards":
        cfg = hashing.Config().use_shard_serialization(
            hashing_algorithm=args.get("hash", "sha256"),
            shard_size=args["shard_size"],
        )
    else:
        cfg = hashing.Config().use_file_serialization(hashing_algorithm=args.get("hash", "sha256"))
    return cfg.set_ignored_paths(paths=ignore, ignore_git_paths=args.get("ignore_git_paths", True))


def main():
    args = json.loads(sys.argv[1])
    model = pathlib.Path(args["model"])
    signature = pathlib.Path(args["signature"])
    try:
        if args["action"] == "sign":
            config = signing.Config()
            if "signing_certificate" in args:
                config = config.use_certificate_signer(
                    private_key=args["private_key"],
                    signing_certificate=args["signing_certificate"],
                    certificate_chain=args.get("certificate_chain", []),
                )
            else:
                config = config.use_elliptic_key_signer(private_key=args["private_key"])
            config.set_hashing_config(hashing_config(args)).sign(model, signature)
        else:
            config = verifying.Config()
            if "ca" in args:
                config = config.use_certificate_verifier(certificate_chain=args["ca"])
            else:
                config = config.use_elliptic_key_verifier(public_key=args["public_key"])
            # No hashing config: model_signing reads method, hash and shard size from the signature.
            config.verify(model, signature)
    except Exception as err:  # noqa: BLE001 - report any failure to the test
        print(f"{type(err).__name__}: {err}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
