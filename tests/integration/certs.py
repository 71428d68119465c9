"""Test certificates made with the openssl CLI: a CA, and leaves it signs (ECDSA P-256)."""
import os
import subprocess


def _run(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


class TestCA:
    def __init__(self, directory, name="sessiongate test CA"):
        self.dir = directory
        self.cert = os.path.join(directory, "ca.pem")
        self.key = os.path.join(directory, "ca.key")
        _run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", self.key, "-out", self.cert, "-days", "30", "-subj", f"/CN={name}",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        self.serial = 1000

    def leaf(self, stem, names, days=30):
        """(cert, key) files for `names` (the first is the CN); cert holds leaf then CA."""
        self.serial += 1
        key = os.path.join(self.dir, f"{stem}.key")
        csr = os.path.join(self.dir, f"{stem}.csr")
        leaf = os.path.join(self.dir, f"{stem}.leaf.pem")
        cert = os.path.join(self.dir, f"{stem}.pem")
        ext = os.path.join(self.dir, f"{stem}.ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=" + ",".join(f"DNS:{n}" for n in names) + "\n"
                    "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
        _run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", key, "-out", csr, "-subj", f"/CN={names[0]}")
        _run("x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key, "-out", leaf,
             "-days", str(days), "-set_serial", str(self.serial), "-extfile", ext)
        with open(cert, "w") as out, open(leaf) as a, open(self.cert) as b:
            out.write(a.read() + b.read())
        return cert, key


def tls_listener(pairs, extra=""):
    """The inline YAML of a listener's tls key for (cert, key) pairs."""
    certs = ", ".join(f"{{cert: {c}, key: {k}}}" for c, k in pairs)
    return f"tls: {{certificates: [{certs}]{', ' + extra if extra else ''}}}"
