using System.Globalization;
using LangSwarm.MemoryEngine.Fuzz;
using SharpFuzz;

const string Usage = """
    usage:
      LangSwarm.MemoryEngine.Fuzz <target>                          run under libFuzzer (libfuzzer-dotnet) via SharpFuzz
      LangSwarm.MemoryEngine.Fuzz <target> --afl                    run under AFL (SharpFuzz out-of-process)
      LangSwarm.MemoryEngine.Fuzz <target> --smoke N [--seed S] [--corpus DIR]
                                                                    N deterministic mutations in-process, no instrumentation
      LangSwarm.MemoryEngine.Fuzz <target> --run FILE|DIR...        replay inputs (crash reproduction, regression seeds)
      LangSwarm.MemoryEngine.Fuzz seeds [DIR]                       write the seed corpus (default: fuzz/corpus)
    targets: record, scan, index, store, json, record-sealed, index-sealed, store-sealed
    """;

if (args.Length == 0)
{
    Console.Error.WriteLine(Usage);
    return 2;
}
if (args[0] == "seeds")
{
    var root = args.Length > 1 ? args[1] : Seeds.FindCorpus() ?? Path.Combine("fuzz", "corpus");
    Seeds.WriteAll(root);
    return 0;
}
var target = args[0];
if (!Targets.Names.Contains(target))
{
    Console.Error.WriteLine($"unknown target '{target}'");
    Console.Error.WriteLine(Usage);
    return 2;
}
var rest = args.Skip(1).ToList();
string? Option(string name)
{
    var i = rest.IndexOf(name);
    return i >= 0 && i + 1 < rest.Count ? rest[i + 1] : null;
}
if (rest.Count == 0)
{
    Fuzzer.LibFuzzer.Run(span => Targets.RunChecked(target, span));
    return 0;
}
if (rest[0] == "--afl")
{
    Fuzzer.OutOfProcess.Run(stream =>
    {
        using var ms = new MemoryStream();
        stream.CopyTo(ms);
        Targets.RunChecked(target, ms.ToArray());
    });
    return 0;
}
if (rest[0] == "--run")
{
    var files = rest.Skip(1).SelectMany(p => Directory.Exists(p) ? Directory.GetFiles(p).Order(StringComparer.Ordinal).ToArray() : new[] { p }).ToList();
    foreach (var file in files)
    {
        var input = File.ReadAllBytes(file);
        if (Smoke.Once(target, input) is { } failure)
        {
            Console.Error.WriteLine($"{target}: {file}: {failure}");
            return 1;
        }
        Console.WriteLine($"{target}: {file}: ok");
    }
    return 0;
}
if (rest[0] == "--smoke" && rest.Count > 1 && int.TryParse(rest[1], CultureInfo.InvariantCulture, out var n))
{
    var seed = int.Parse(Option("--seed") ?? "1", CultureInfo.InvariantCulture);
    var corpus = Option("--corpus") ?? Seeds.FindCorpus();
    var result = Smoke.Run(target, n, seed, corpus, Console.Out);
    if (!result.Passed)
    {
        Console.Error.WriteLine($"{target}: invariant violated after {result.Iterations} mutations (seed {seed}): {result.Failure}");
        Console.Error.WriteLine($"input ({result.FailingInput!.Length} bytes): {Convert.ToHexString(result.FailingInput)}");
        return 1;
    }
    Console.WriteLine($"{target}: {result.Iterations} mutations (seed {seed}), no invariant violated");
    return 0;
}
Console.Error.WriteLine(Usage);
return 2;
