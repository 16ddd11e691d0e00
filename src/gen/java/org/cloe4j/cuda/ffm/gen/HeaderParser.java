package org.cloe4j.cuda.ffm.gen;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses the simple C declaration headers under {@code native/}: typedefs of scalars and opaque pointers, integer
 * {@code #define}s, and function prototypes. It is deliberately not a C parser: it accepts exactly the subset
 * those headers are written in and throws, naming the line, on anything else, so a header cannot silently bind
 * wrong. Each header starts with a directive comment {@code cloe4j-bind: class=NAME library=LIB} (a shared
 * library) or {@code cloe4j-bind: class=NAME kernels=RESOURCE} (kernels launched with cuLaunchKernel).
 */
public final class HeaderParser {

    /** What a C type is reduced to: enough to pick a layout and a Java carrier. */
    public enum Kind { VOID, CHAR, INT, LONG, FLOAT, DOUBLE, POINTER }

    /** A C type: its kind and the layout constant of the header class that carries it. */
    public record CType(Kind kind, String layout) {
        static final CType VOID = new CType(Kind.VOID, null);
        static final CType CHAR = new CType(Kind.CHAR, "C_CHAR");
        static final CType INT = new CType(Kind.INT, "C_INT");
        static final CType LONG = new CType(Kind.LONG, "C_LONG");
        static final CType LONG_LONG = new CType(Kind.LONG, "C_LONG_LONG");
        static final CType FLOAT = new CType(Kind.FLOAT, "C_FLOAT");
        static final CType DOUBLE = new CType(Kind.DOUBLE, "C_DOUBLE");
        static final CType POINTER = new CType(Kind.POINTER, "C_POINTER");

        public String javaType() {
            return switch (kind) {
                case VOID -> "void";
                case CHAR -> "byte";
                case INT -> "int";
                case LONG -> "long";
                case FLOAT -> "float";
                case DOUBLE -> "double";
                case POINTER -> "MemorySegment";
            };
        }
    }

    public record Typedef(String name, CType type, String declaration) {
    }

    public record Constant(String name, long value, String declaration) {
    }

    public record Param(String name, CType type) {
    }

    public record Function(String name, CType returnType, List<Param> params, String prototype) {
    }

    /** One parsed header: the class to generate, what it binds, and its declarations in source order. */
    public record Header(String source, String className, String library, String kernelsResource,
                         List<Typedef> typedefs, List<Constant> constants, List<Function> functions) {
        public boolean isKernels() {
            return kernelsResource != null;
        }
    }

    private static final Pattern DIRECTIVE = Pattern.compile("cloe4j-bind:\\s*class=(\\w+)\\s+(library|kernels)=([\\w.\\-]+)");
    private static final Pattern DEFINE = Pattern.compile("#\\s*define\\s+(\\w+)\\s+(-?(?:0x[0-9a-fA-F]+|\\d+))[uUlL]*\\s*");
    private static final Pattern IDENT = Pattern.compile("[A-Za-z_]\\w*");
    /** Tokens that change nothing about the binding: qualifiers and the kernel-export macro. */
    private static final Set<String> IGNORED = Set.of("const", "struct", "extern", "\"C\"", "__global__", "CLOE_KERNEL",
            "volatile", "restrict", "__restrict__");
    private static final Set<String> JAVA_KEYWORDS = Set.of("abstract", "boolean", "byte", "char", "class", "default",
            "do", "double", "final", "float", "for", "goto", "if", "int", "long", "native", "new", "package", "private",
            "protected", "public", "return", "short", "static", "switch", "this", "throw", "try", "void", "while");

    private final Map<String, CType> typedefs = new LinkedHashMap<>();

    private HeaderParser() {
    }

    /** Parses one header's text; {@code source} names it in messages and in the generated banner. */
    public static Header parse(String source, String text) {
        return new HeaderParser().run(source, text);
    }

    private Header run(String source, String text) {
        Matcher d = DIRECTIVE.matcher(text);
        if (!d.find()) {
            throw new IllegalArgumentException(source + ": missing the 'cloe4j-bind: class=NAME library|kernels=X' directive");
        }
        String className = d.group(1);
        String library = d.group(2).equals("library") ? d.group(3) : null;
        String kernels = d.group(2).equals("kernels") ? d.group(3) : null;

        List<Typedef> tds = new ArrayList<>();
        List<Constant> consts = new ArrayList<>();
        List<Function> fns = new ArrayList<>();

        // Comments out (keeping line breaks so line numbers stay right), then preprocessor lines one by one.
        String code = stripComments(text);
        StringBuilder body = new StringBuilder();
        String[] lines = code.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            String t = line.strip();
            if (t.startsWith("#")) {
                Matcher m = DEFINE.matcher(t);
                if (m.matches()) consts.add(new Constant(m.group(1), Long.decode(m.group(2)), t.replaceAll("\\s+", " ")));
                // other directives (#ifdef, #define of a non-number such as CLOE_KERNEL) bind nothing
                body.append('\n');
            } else {
                body.append(line).append('\n');
            }
        }

        // Statements end with ';'. Track the line each starts on for messages.
        String all = body.toString();
        int line = 1, start = 0;
        for (int i = 0; i < all.length(); i++) {
            if (all.charAt(i) != ';') continue;
            String stmt = all.substring(start, i);
            int stmtLine = line + leadingNewlines(stmt);
            line += count(stmt, '\n');
            start = i + 1;
            String s = stmt.strip().replaceAll("\\s+", " ");
            if (s.isEmpty()) continue;
            try {
                if (s.startsWith("typedef ")) tds.add(typedef(s));
                else if (s.contains("(")) fns.add(function(s));
                else throw new IllegalArgumentException("neither a typedef nor a function prototype");
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(source + ":" + stmtLine + ": cannot bind '" + s + "': " + e.getMessage(), e);
            }
        }
        if (!all.substring(start).isBlank()) {
            throw new IllegalArgumentException(source + ": text after the last ';': '" + all.substring(start).strip() + "'");
        }
        return new Header(source, className, library, kernels, List.copyOf(tds), List.copyOf(consts), List.copyOf(fns));
    }

    private Typedef typedef(String s) {
        List<String> toks = tokens(s.substring("typedef ".length()));
        if (toks.isEmpty()) throw new IllegalArgumentException("empty typedef");
        String name = toks.removeLast();
        if (!IDENT.matcher(name).matches()) throw new IllegalArgumentException("typedef name '" + name + "' is not an identifier");
        // 'typedef struct X *Name': an opaque handle; the struct tag itself is never needed
        boolean isStruct = s.startsWith("typedef struct ");
        CType type = isStruct && toks.contains("*") ? CType.POINTER : type(toks);
        typedefs.put(name, type);
        return new Typedef(name, type, s + ";");
    }

    private Function function(String s) {
        int open = s.indexOf('('), close = s.lastIndexOf(')');
        if (close < open || !s.substring(close + 1).isBlank()) throw new IllegalArgumentException("unbalanced parentheses");
        List<String> head = tokens(s.substring(0, open));
        if (head.isEmpty()) throw new IllegalArgumentException("no function name");
        String name = head.removeLast();
        if (!IDENT.matcher(name).matches()) throw new IllegalArgumentException("'" + name + "' is not a function name");
        CType ret = type(head);
        List<Param> params = new ArrayList<>();
        String inner = s.substring(open + 1, close).strip();
        if (!inner.isEmpty() && !inner.equals("void")) {
            String[] parts = inner.split(",");
            for (int i = 0; i < parts.length; i++) {
                List<String> toks = tokens(parts[i]);
                if (toks.isEmpty()) throw new IllegalArgumentException("empty parameter " + (i + 1));
                String pname = "x" + i;
                String last = toks.getLast();
                if (toks.size() > 1 && !last.equals("*") && !isTypeWord(last)) pname = toks.removeLast();
                if (JAVA_KEYWORDS.contains(pname)) pname = pname + "_";
                params.add(new Param(pname, type(toks)));
            }
        }
        String prototype = s.replaceAll("\\bCLOE_KERNEL\\b ?", "").replace("( ", "(").replace(" )", ")") + ";";
        return new Function(name, ret, List.copyOf(params), prototype);
    }

    private boolean isTypeWord(String w) {
        return typedefs.containsKey(w) || Set.of("void", "char", "int", "long", "unsigned", "signed", "float", "double", "short").contains(w);
    }

    /** The type named by the tokens (qualifiers already dropped), pointers included. */
    private CType type(List<String> toks) {
        if (toks.contains("*")) return CType.POINTER;
        String t = String.join(" ", toks);
        return switch (t) {
            case "void" -> CType.VOID;
            case "char", "signed char", "unsigned char" -> CType.CHAR;
            case "int", "unsigned", "unsigned int", "signed int", "signed" -> CType.INT;
            case "long", "unsigned long", "long int", "unsigned long int" -> CType.LONG;
            case "long long", "unsigned long long", "long long int", "unsigned long long int" -> CType.LONG_LONG;
            case "float" -> CType.FLOAT;
            case "double" -> CType.DOUBLE;
            default -> {
                CType td = typedefs.get(t);
                if (td == null) throw new IllegalArgumentException("unknown type '" + t + "'");
                yield td;
            }
        };
    }

    private static List<String> tokens(String s) {
        String spaced = s.replace("*", " * ");
        List<String> out = new ArrayList<>();
        for (String t : spaced.strip().split("\\s+")) {
            if (!t.isEmpty() && !IGNORED.contains(t)) out.add(t);
        }
        return out;
    }

    /** Removes block and line comments, keeping every newline. */
    static String stripComments(String text) {
        StringBuilder out = new StringBuilder(text.length());
        int i = 0;
        while (i < text.length()) {
            if (text.startsWith("/*", i)) {
                int end = text.indexOf("*/", i + 2);
                if (end < 0) throw new IllegalArgumentException("unterminated comment");
                for (char c : text.substring(i, end + 2).toCharArray()) if (c == '\n') out.append('\n');
                i = end + 2;
            } else if (text.startsWith("//", i)) {
                int end = text.indexOf('\n', i);
                i = end < 0 ? text.length() : end;
            } else {
                out.append(text.charAt(i++));
            }
        }
        return out.toString();
    }

    private static int count(String s, char c) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) if (s.charAt(i) == c) n++;
        return n;
    }

    private static int leadingNewlines(String s) {
        int n = 0;
        for (int i = 0; i < s.length() && Character.isWhitespace(s.charAt(i)); i++) if (s.charAt(i) == '\n') n++;
        return n;
    }

    @Override
    public String toString() {
        return "HeaderParser" + Arrays.toString(typedefs.keySet().toArray());
    }
}
