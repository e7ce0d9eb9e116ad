using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using IpcCore.Native;
using NUnit.Framework;

namespace IpcCore.Bindings.Tests;

/// <summary>
/// The compiled C# structs and enums agree with the C header, checked by the C compiler itself
/// (Tmds.LibC style): sizes, field offsets and constant values become _Static_asserts against ipccore.h.
/// </summary>
[TestFixture]
public sealed class LayoutAndConstantTests
{
    private const string Namespace = "IpcCore.Native";

    [Test]
    public void Struct_layouts_and_enum_values_match_the_C_header()
    {
        Type[] types = [.. typeof(IpcNative).Assembly.GetTypes()
            .Where(t => t.IsPublic && t.Namespace == Namespace && (t.IsEnum || (t.IsValueType && !t.IsPrimitive)))
            .OrderBy(t => t.Name, StringComparer.Ordinal)];
        Assert.That(types.Count(t => t.IsEnum), Is.GreaterThan(0), $"no public enums in {Namespace}");
        Assert.That(types.Count(t => !t.IsEnum), Is.GreaterThan(0), $"no public structs in {Namespace}");

        var c = new StringBuilder();
        c.Append("#include <stddef.h>\n#include <stdint.h>\n#include \"ipccore.h\"\n\n");
        int asserts = 0;
        foreach (Type type in types)
        {
            string cType = "Ipc" + type.Name;
            if (type.IsEnum)
            {
                int size = Marshal.SizeOf(Enum.GetUnderlyingType(type));
                StaticAssert(c, $"sizeof({cType}) == {size}", $"sizeof({cType}) == sizeof(C# {type.Name}) == {size}");
                asserts++;
                foreach (FieldInfo member in type.GetFields(BindingFlags.Public | BindingFlags.Static))
                {
                    long value = Convert.ToInt64(member.GetRawConstantValue(), CultureInfo.InvariantCulture);
                    string cName = "IPC_" + member.Name;
                    StaticAssert(c, $"(long long){cName} == {value}LL", $"{cName} == C# {type.Name}.{member.Name} == {value}");
                    asserts++;
                }
            }
            else
            {
                Assert.That(type.StructLayoutAttribute?.Value, Is.EqualTo(LayoutKind.Sequential), $"{type.Name} is sequential");
                int size = Marshal.SizeOf(type);
                StaticAssert(c, $"sizeof({cType}) == {size}", $"sizeof({cType}) == Marshal.SizeOf<{type.Name}>() == {size}");
                asserts++;
                foreach (FieldInfo field in type.GetFields(BindingFlags.Public | BindingFlags.Instance))
                {
                    string cField = char.ToLowerInvariant(field.Name[0]) + field.Name[1..];
                    long offset = Marshal.OffsetOf(type, field.Name).ToInt64();
                    StaticAssert(c, $"offsetof({cType}, {cField}) == {offset}", $"offsetof({cType}, {cField}) == Marshal.OffsetOf<{type.Name}>(\"{field.Name}\") == {offset}");
                    asserts++;
                }
            }
        }

        using var temp = new TestSupport.TempDirectory();
        string source = temp.Write("layout_check.c", c.ToString());
        TestSupport.ProcessResult gcc = TestSupport.Run(
            "gcc",
            ["-std=c11", "-fsyntax-only", "-Werror", "-Wall", "-Wextra", "-I", Path.Combine(TestSupport.RepoRoot, "native/include"), source],
            TestSupport.RepoRoot);
        Assert.That(gcc.ExitCode, Is.EqualTo(0),
            $"the C# layout/constants disagree with {TestSupport.HeaderRelativePath} ({asserts} asserts); gcc says:\n{gcc.Output}\n\n--- {Path.GetFileName(source)} ---\n{c}");
        TestContext.Out.WriteLine($"{asserts} static asserts over {types.Length} types hold in C.");
    }

    private static void StaticAssert(StringBuilder c, string condition, string message) =>
        c.Append(CultureInfo.InvariantCulture, $"_Static_assert({condition}, \"{message.Replace("\"", "\\\"", StringComparison.Ordinal)}\");\n");
}
