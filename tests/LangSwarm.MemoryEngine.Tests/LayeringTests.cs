using System.Reflection;
using System.Reflection.Emit;
using LangSwarm.MemoryEngine;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>
/// The engine is a strict stack of layers, one namespace each: Format → Device → Log → Index → Recovery →
/// Compaction → Engine, with the public API (namespace <c>LangSwarm.MemoryEngine</c>) on top. A type may use its
/// own layer and the layers below it, never one above. Public vocabulary (options, reports, exceptions, the file
/// system interface: root types that use no layer) may be used from anywhere. Read from the compiled assembly:
/// signatures, locals and every member or type an IL instruction names.
/// </summary>
public sealed class LayeringTests
{
    private static readonly string[] Layers = ["Format", "Device", "Log", "Index", "Recovery", "Compaction", "Engine"];

    private const string Root = "LangSwarm.MemoryEngine";

    [Fact]
    public void No_layer_uses_a_layer_above_it()
    {
        var assembly = typeof(EngineBackend).Assembly;
        var types = assembly.GetTypes();
        var uses = types.ToDictionary(t => t, t => References(t).Select(Normalize).Where(r => r.Assembly == assembly && !string.IsNullOrEmpty(r.Namespace)).Select(Outermost).ToHashSet());
        // Root types that use no layer are vocabulary: every layer may name them.
        var vocabulary = types.Where(t => LayerOf(t) == Layers.Length && !uses[t].Any(u => LayerOf(u) < Layers.Length)).ToHashSet();
        var violations = new List<string>();
        foreach (var type in types.Where(t => !string.IsNullOrEmpty(t.Namespace)))
        {
            var layer = LayerOf(type);
            if (layer < 0)
            {
                violations.Add($"{type.FullName} is in no layer namespace");
                continue;
            }
            foreach (var used in uses[type])
            {
                var usedLayer = LayerOf(used);
                if (usedLayer > layer && !vocabulary.Contains(used))
                {
                    violations.Add($"{Outermost(type).FullName} ({Name(layer)}) uses {used.FullName} ({Name(usedLayer)})");
                }
            }
        }
        Assert.True(violations.Count == 0, string.Join('\n', violations.Distinct().Order(StringComparer.Ordinal)));
    }

    [Fact]
    public void The_public_api_is_one_namespace()
    {
        var outside = typeof(EngineBackend).Assembly.GetExportedTypes().Where(t => t.Namespace != Root).Select(t => t.FullName).ToList();
        Assert.True(outside.Count == 0, "public types outside " + Root + ": " + string.Join(", ", outside));
    }

    private static string Name(int layer) => layer == Layers.Length ? "public API" : Layers[layer];

    /// <summary>Index of the type's layer, <see cref="Layers"/>.Length for the root namespace, -1 for none.</summary>
    private static int LayerOf(Type t)
    {
        var ns = Outermost(t).Namespace ?? string.Empty;
        if (ns == Root)
        {
            return Layers.Length;
        }
        for (var i = 0; i < Layers.Length; i++)
        {
            var prefix = $"{Root}.{Layers[i]}";
            if (ns == prefix || ns.StartsWith(prefix + ".", StringComparison.Ordinal))
            {
                return i;
            }
        }
        return ns.StartsWith("System", StringComparison.Ordinal) || ns.StartsWith("Microsoft", StringComparison.Ordinal) || ns.Length == 0 ? Layers.Length : -1;
    }

    /// <summary>The type a reference names: an array's element, a generic's definition (its arguments are references of their own).</summary>
    private static Type Normalize(Type t)
    {
        while (t.HasElementType)
        {
            t = t.GetElementType()!;
        }
        return t.IsGenericType ? t.GetGenericTypeDefinition() : t;
    }

    private static Type Outermost(Type t)
    {
        while (t.DeclaringType is { } d)
        {
            t = d;
        }
        return t;
    }

    private static IEnumerable<Type> References(Type type)
    {
        var found = new HashSet<Type>();
        void Add(Type? t)
        {
            if (t is null || t.IsGenericParameter || !found.Add(t))
            {
                return;
            }
            if (t.HasElementType)
            {
                Add(t.GetElementType());
            }
            if (t.IsGenericType)
            {
                Add(t.GetGenericTypeDefinition());
                foreach (var a in t.GetGenericArguments())
                {
                    Add(a);
                }
            }
        }
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        Add(type.BaseType);
        foreach (var i in type.GetInterfaces())
        {
            Add(i);
        }
        foreach (var f in type.GetFields(all))
        {
            Add(f.FieldType);
        }
        foreach (var p in type.GetProperties(all))
        {
            Add(p.PropertyType);
        }
        foreach (var m in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
        {
            if (m is MethodInfo mi)
            {
                Add(mi.ReturnType);
            }
            foreach (var p in m.GetParameters())
            {
                Add(p.ParameterType);
            }
            foreach (var used in BodyReferences(type, m))
            {
                Add(used);
            }
        }
        return found;
    }

    private static readonly OpCode[] OneByte = new OpCode[0x100];
    private static readonly OpCode[] TwoByte = new OpCode[0x100];

#pragma warning disable CA1810 // the opcode tables are filled once from OpCodes' fields
    static LayeringTests()
#pragma warning restore CA1810
    {
        foreach (var f in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            var op = (OpCode)f.GetValue(null)!;
            var v = (ushort)op.Value;
            if (op.Size == 1)
            {
                OneByte[v] = op;
            }
            else
            {
                TwoByte[v & 0xFF] = op;
            }
        }
    }

    /// <summary>Types of the locals and of every type, field or method a method's IL names.</summary>
    private static IEnumerable<Type> BodyReferences(Type type, MethodBase method)
    {
        var body = method.GetMethodBody();
        if (body is null)
        {
            yield break;
        }
        foreach (var local in body.LocalVariables)
        {
            yield return local.LocalType;
        }
        var il = body.GetILAsByteArray() ?? [];
        var typeArgs = type.IsGenericType ? type.GetGenericArguments() : null;
        var methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        var pos = 0;
        while (pos < il.Length)
        {
            var op = il[pos] == 0xFE ? TwoByte[il[++pos]] : OneByte[il[pos]];
            pos++;
            var size = op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + (4 * BitConverter.ToInt32(il, pos)),
                _ => 4,
            };
            if (op.OperandType is OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineType or OperandType.InlineTok)
            {
                var token = BitConverter.ToInt32(il, pos);
                MemberInfo? member = null;
                try
                {
                    member = method.Module.ResolveMember(token, typeArgs, methodArgs);
                }
                catch (ArgumentException)
                {
                    // A token this context cannot resolve (a generic instantiation elsewhere): nothing to check.
                }
                switch (member)
                {
                    case Type t:
                        yield return t;
                        break;
                    case FieldInfo f:
                        yield return f.DeclaringType!;
                        yield return f.FieldType;
                        break;
                    case MethodBase m:
                        yield return m.DeclaringType!;
                        if (m is MethodInfo mi)
                        {
                            yield return mi.ReturnType;
                        }
                        break;
                }
            }
            pos += size;
        }
    }
}
