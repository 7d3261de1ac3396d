// Preloaded with `node --require` by tests that check what a process loads: at exit, prints on
// stderr one line `LOADED-PACKAGES [...]` naming the node_modules packages whose CommonJS modules
// were loaded (also through import()). Nothing of it is in the product.
process.on('exit', () => {
  const names = new Set();
  for (const file of Object.keys(require.cache)) {
    const match = /[\\/]node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)[\\/]/.exec(file.slice(file.lastIndexOf('node_modules') - 1));
    if (match) names.add(match[1].replace('\\', '/'));
  }
  process.stderr.write(`LOADED-PACKAGES ${JSON.stringify([...names].sort())}\n`);
});
