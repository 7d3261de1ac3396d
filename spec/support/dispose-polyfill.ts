// Jest gives every test file its own realm, whose Symbol lacks the explicit-resource-management
// symbols Node 20 defines; without them `await using` and `[Symbol.asyncDispose]` methods break.
const symbols = Symbol as unknown as { asyncDispose?: symbol; dispose?: symbol };
symbols.asyncDispose ??= Symbol.for('nodejs.asyncDispose');
symbols.dispose ??= Symbol.for('nodejs.dispose');
export {};
