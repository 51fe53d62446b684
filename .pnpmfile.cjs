// pnpm hooks for this workspace.
module.exports = {
  hooks: {
    // A published manifest keeps what an installer reads: the devDependencies (test SDKs, the
    // private fake-providers package) mean nothing outside this repository.
    beforePacking(pkg) {
      delete pkg.devDependencies;
      return pkg;
    },
  },
};
