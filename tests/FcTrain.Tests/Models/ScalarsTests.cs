using System.Reflection;
using System.Reflection.Emit;
using FcTrain.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace FcTrain.Tests.Models;

public class ScalarsTests
{
    /// <summary>
    /// The library's compiled code, read as IL: no number becomes a Scalar through the implicit conversion, and no call
    /// goes to a TorchSharp member that makes a Scalar of its own without disposing it (<c>a + b</c>, <c>add_(x)</c>,
    /// <c>x * 0.5</c>, <c>ToDouble()</c> of a tensor, …), found the same way in TorchSharp's IL. See <see cref="Scalars"/>
    /// for why. Explicit <c>ToScalar()</c> calls are allowed: the code holds what they return.
    /// </summary>
    [Fact]
    public void The_library_passes_libtorch_no_Scalar_that_nothing_holds()
    {
        var torchSharp = typeof(Scalar).Assembly;
        bool MakesScalar(MethodBase m) =>
            m.DeclaringType == typeof(Scalar) && m.Name == "op_Implicit"
            || m.DeclaringType == typeof(ScalarExtensionMethods) && m.Name.StartsWith("To") && m.Name.EndsWith("Scalar")
            || m.DeclaringType == typeof(Tensor) && m.Name == nameof(Tensor.ToScalar);

        // TorchSharp's members that make a Scalar they do not dispose, directly or through another one.
        var calls = Methods(torchSharp).ToDictionary(m => m, m => Callees(m).ToList());
        var makers = calls.Where(c => c.Value.Any(MakesScalar) && !c.Value.Any(IsScalarDispose)).Select(c => c.Key)
            .Where(m => m.DeclaringType != typeof(Scalar) && m.DeclaringType != typeof(ScalarExtensionMethods)).ToHashSet();
        for (int added = 1; added > 0;)
        {
            var more = calls.Where(c => !makers.Contains(c.Key) && c.Value.Any(makers.Contains)).Select(c => c.Key).ToList();
            makers.UnionWith(more);
            added = more.Count;
        }
        Assert.Contains(typeof(Tensor).GetMethod("op_Addition", [typeof(Tensor), typeof(Tensor)])!, makers);   // the scan finds them

        var offenders = Methods(typeof(Scalars).Assembly)
            .SelectMany(m => Callees(m).Where(c => c.DeclaringType == typeof(Scalar) && c.Name == "op_Implicit" || makers.Contains(c))
                .Select(c => $"{m.DeclaringType}.{m.Name} calls {Name(c)}"))
            .Distinct().ToList();
        Assert.True(offenders.Count == 0, "Scalars that nothing holds (see FcTrain.Models.Scalars):\n" + string.Join("\n", offenders));
    }

    private static string Name(MethodBase m) =>
        $"{m.DeclaringType?.Name}.{m.Name}({string.Join(", ", m.GetParameters().Select(p => p.ParameterType.Name))})";

    private static bool IsScalarDispose(MethodBase m) => m.DeclaringType == typeof(Scalar) && m.Name == nameof(Scalar.Dispose);

    private static IEnumerable<MethodBase> Methods(Assembly assembly)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        foreach (var type in assembly.GetTypes())
        {
            foreach (var m in type.GetMethods(all)) yield return m;
            foreach (var c in type.GetConstructors(all)) yield return c;
        }
    }

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    /// <summary>The methods <paramref name="method"/>'s IL calls (call, callvirt, newobj; not through delegates).</summary>
    private static IEnumerable<MethodBase> Callees(MethodBase method)
    {
        byte[]? il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null) yield break;
        Type[]? typeArgs = method.DeclaringType is { IsGenericType: true } t ? t.GetGenericArguments() : null;
        Type[]? methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (int i = 0; i < il.Length;)
        {
            short value = il[i++];
            if (value == 0xFE) value = unchecked((short)(0xFE00 | il[i++]));
            var op = OpCodesByValue[value];
            int size = op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, i),
                _ => 4,
            };
            if (op == OpCodes.Call || op == OpCodes.Callvirt || op == OpCodes.Newobj)
            {
                MethodBase? callee = null;
                try { callee = method.Module.ResolveMethod(BitConverter.ToInt32(il, i), typeArgs, methodArgs); }
                catch (Exception e) when (e is ArgumentException or TypeLoadException or FileNotFoundException or BadImageFormatException) { }
                if (callee is not null) yield return callee;
            }
            i += size;
        }
    }
}
