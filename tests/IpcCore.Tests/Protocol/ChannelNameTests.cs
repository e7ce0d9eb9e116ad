using System.Text;
using IpcCore.Protocol;
using NUnit.Framework;

namespace IpcCore.Tests.Protocol;

[TestFixture]
public sealed class ChannelNameTests
{
    private static readonly string s_max = string.Join('.', Enumerable.Repeat(new string('a', 50), 5)) + "b"; // 255 bytes

    [TestCase("weather")]
    [TestCase("sensors.temp")]
    [TestCase("a-b_c.9")]
    [TestCase("A")]
    [TestCase("0.1.2.3")]
    [TestCase("--.__")]
    public void Valid_names(string name)
    {
        Assert.That(ChannelName.IsValidName(Encoding.UTF8.GetBytes(name)), Is.True);
        Assert.That(ChannelName.IsValidPattern(Encoding.UTF8.GetBytes(name)), Is.True, "a name is also a pattern");
        Assert.That(ChannelName.Explain(Encoding.UTF8.GetBytes(name), allowWildcards: false), Is.Null);
    }

    [Test]
    public void The_longest_name_is_255_bytes()
    {
        Assert.That(Encoding.UTF8.GetByteCount(s_max), Is.EqualTo(255));
        Assert.That(ChannelName.IsValidName(Encoding.UTF8.GetBytes(s_max)), Is.True);
        Assert.That(ChannelName.IsValidName(Encoding.UTF8.GetBytes(s_max + "x")), Is.False);
        Assert.That(ChannelName.Explain(Encoding.UTF8.GetBytes(s_max + "x"), false), Does.Contain("256 bytes").And.Contain("255"));
    }

    [TestCase("", "empty")]
    [TestCase(".", "empty token")]
    [TestCase(".a", "empty token")]
    [TestCase("a.", "empty token")]
    [TestCase("a..b", "empty token")]
    [TestCase("a b", "' '")]
    [TestCase("a/b", "'/'")]
    [TestCase("a.b$", "'$' in token 2")]
    [TestCase("wé", "0xc3")]
    [TestCase("a\tb", "0x09")]
    [TestCase("a\0b", "0x00")]
    [TestCase("*", "only allowed in subscription patterns")]
    [TestCase("a.>", "only allowed in subscription patterns")]
    [TestCase("a*", "'*'")]
    [TestCase("a.b*", "'*' in token 2")]
    public void Invalid_names_are_explained(string name, string expected)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(name);
        Assert.That(ChannelName.IsValidName(bytes), Is.False);
        Assert.That(ChannelName.Explain(bytes, allowWildcards: false), Does.Contain(expected));
    }

    [TestCase("weather.*")]
    [TestCase("*")]
    [TestCase(">")]
    [TestCase("sensors.>")]
    [TestCase("*.temp")]
    [TestCase("*.*.>")]
    [TestCase("a.*.c")]
    public void Valid_patterns(string pattern)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(pattern);
        Assert.That(ChannelName.IsValidPattern(bytes), Is.True);
        Assert.That(ChannelName.IsValidName(bytes), Is.False, "a wildcard makes it no name");
        Assert.That(ChannelName.HasWildcard(bytes), Is.True);
        Assert.That(ChannelName.Explain(bytes, allowWildcards: true), Is.Null);
    }

    [TestCase(">.a", "last token")]
    [TestCase("a.>.b", "last token")]
    [TestCase("a.>>", "'>'")]
    [TestCase("a.**", "'*'")]
    [TestCase("a*.b", "'*'")]
    [TestCase("a.", "empty token")]
    [TestCase("", "empty")]
    public void Invalid_patterns_are_explained(string pattern, string expected)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(pattern);
        Assert.That(ChannelName.IsValidPattern(bytes), Is.False);
        Assert.That(ChannelName.Explain(bytes, allowWildcards: true), Does.Contain(expected));
    }

    [TestCase("weather", "weather", true)]
    [TestCase("weather", "weathe", false)]
    [TestCase("weather", "weather.today", false)]
    [TestCase("weather.today", "weather", false)]
    [TestCase("weather.*", "weather.today", true)]
    [TestCase("weather.*", "weather", false)]
    [TestCase("weather.*", "weather.a.b", false)]
    [TestCase("weather.*", "other.today", false)]
    [TestCase("*", "a", true)]
    [TestCase("*", "a.b", false)]
    [TestCase("*.temp", "kitchen.temp", true)]
    [TestCase("*.temp", "kitchen.humidity", false)]
    [TestCase("a.*.c", "a.b.c", true)]
    [TestCase("a.*.c", "a.b.d", false)]
    [TestCase("a.*.c", "a.c", false)]
    [TestCase("*.*", "a.b", true)]
    [TestCase("*.*", "a", false)]
    [TestCase("sensors.>", "sensors.temp", true)]
    [TestCase("sensors.>", "sensors.a.b", true)]
    [TestCase("sensors.>", "sensors", false)]
    [TestCase("sensors.>", "sensorsx.temp", false)]
    [TestCase(">", "a", true)]
    [TestCase(">", "a.b.c", true)]
    [TestCase("*.>", "a", false)]
    [TestCase("*.>", "a.b", true)]
    [TestCase("a.*.>", "a.b.c.d", true)]
    [TestCase("a.*.>", "a.b", false)]
    [TestCase("ab", "a", false)]
    [TestCase("a", "ab", false)]
    [TestCase("a.b", "a.bc", false)]
    public void Matching(string pattern, string name, bool matches)
        => Assert.That(ChannelName.Matches(Encoding.UTF8.GetBytes(pattern), Encoding.UTF8.GetBytes(name)), Is.EqualTo(matches),
            $"'{pattern}' vs '{name}'");

    [Test]
    public void Has_wildcard_only_for_whole_wildcard_tokens()
    {
        Assert.That(ChannelName.HasWildcard("weather"u8), Is.False);
        Assert.That(ChannelName.HasWildcard("a*"u8), Is.False);
        Assert.That(ChannelName.HasWildcard("a.*"u8), Is.True);
        Assert.That(ChannelName.HasWildcard(">"u8), Is.True);
    }
}
