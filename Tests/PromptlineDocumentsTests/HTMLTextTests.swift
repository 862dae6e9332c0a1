import PromptlineDocuments
import Testing

@Suite struct HTMLTextTests {
    private func text(_ html: String) -> String { HTMLText.plainText(fromHTML: html) }

    @Test func aPageBecomesItsReadableText() {
        let page = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
              <meta charset="utf-8">
              <title>Quarterly report</title>
              <style>body { color: red; } p > a { display: none }</style>
              <script>var x = "<p>not text</p>"; if (a < b && c > d) {}</script>
            </head>
            <body>
              <!-- navigation <p>hidden</p> -->
              <h1>Results   for
                 Q3</h1>
              <p>Revenue grew <b>12&nbsp;%</b> &mdash; see <a href="/t?a=1&amp;b=2" title='x > y'>the table</a>.</p>
              <div>First line<br>Second line<br/><br>After a blank line</div>
              <ul><li>one</li><li>two</li></ul>
              <table><tr><th>Item</th><th>Cost</th></tr><tr><td>Tea</td><td>&euro;3</td></tr></table>
              <SCRIPT type="text/javascript">document.write("<b>no</b>")</SCRIPT>
              <p>요약 &amp; caf&#233; &#x1F600; &#xe9;</p>
            </body>
            </html>
            """
        #expect(text(page) == """
            Results for Q3

            Revenue grew 12 % — see the table.

            First line
            Second line

            After a blank line

            one
            two

            Item Cost
            Tea €3

            요약 & café 😀 é
            """)
    }

    @Test(arguments: [
        ("&lt;tag&gt; &quot;q&quot; &apos;a&apos; &amp;amp;", "<tag> \"q\" 'a' &amp;"),
        ("&eacute;&Eacute;&ntilde;&szlig;&yuml;&iquest;&copy;&frac12;", "éÉñßÿ¿©½"),
        ("&hellip;&ldquo;x&rdquo;&lsquo;y&rsquo;&trade;&euro;&bull;", "…“x”‘y’™€•"),
        ("&#65;&#x42;&#X43;&#68 &#0; &#x110000;", "ABCD \u{FFFD} \u{FFFD}"),
        ("AT&T &unknown; a & b &amp", "AT&T &unknown; a & b &amp"),
        ("co&shy;operate", "cooperate"),
        ("a&nbsp;&nbsp;b\u{A0}\u{A0}c", "a b c"),
    ])
    func characterReferencesAreDecoded(html: String, expected: String) {
        #expect(text(html) == expected)
    }

    @Test(arguments: [
        ("<p>  lots \n\t of   space  </p>", "lots of space"),
        ("a<span>b</span><i>c</i> d", "abc d"),
        ("<p>one</p><p>two</p>", "one\n\ntwo"),
        ("<div><div><p>deep</p></div></div><div>next</div>", "deep\n\nnext"),
        ("<h2>Title</h2>Body", "Title\n\nBody"),
        ("x<br>y", "x\ny"),
        ("x<br><br><br>y", "x\n\ny"),
        ("<tr><td>a</td><td>b</td></tr><tr><td>c</td></tr>", "a b\nc"),
        ("<pre>line 1\n  line 2\n\nline 4</pre>after", "line 1\nline 2\n\nline 4\n\nafter"),
        ("a < b and c > d", "a < b and c > d"),
        ("<p>1 <3 you</p>", "1 <3 you"),
        ("<![CDATA[raw <b>]]> text", "raw <b> text"),
        ("<?xml version=\"1.0\"?><p>x</p>", "x"),
        ("", ""),
        ("<p> </p><br>", ""),
    ])
    func markupAndWhitespace(html: String, expected: String) {
        #expect(text(html) == expected)
    }

    @Test(arguments: [
        ("<head><title>T</title><meta name=x></head><body>b</body>", "b"),
        ("<head><title>T</title><p>the head was never closed</p>", "the head was never closed"),
        ("<head><style>x</style>text in head</head><body>b</body>", "b"),
        ("<script>never closed <p>x</p>", ""),
        ("<script src=\"a.js\"/>visible", "visible"),
        ("<style>a{}</style >b<STYLE>c</Style>d", "bd"),
        ("<script>if (a</scripts) {}</script>shown", "shown"),
        ("<noscript>Enable JS</noscript><template><p>t</p></template>ok", "ok"),
        ("<!-- a comment that never ends", ""),
        ("<p title=\"a > b\">x</p>", "x"),
        ("<p class=it's>x</p>", "x"),
    ])
    func droppedAndForgivingCases(html: String, expected: String) {
        #expect(text(html) == expected)
    }
}
