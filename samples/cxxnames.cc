// C++ names of known call counts, for demangling: a namespace, a class (constructor 2x,
// destructor 2x, method(int) 5x, method(int) const 2x, static make() 1x), a template (twice<int>
// 3x, twice<double> 4x), overloads (over(int) 6x, over(double) 7x, over(char const*) 8x), a nested
// namespace (inner::deep() 1x) and an anonymous-namespace function (hidden(int) 9x).
#include <cstdio>

static volatile long sink;

namespace ns {

class Widget {
public:
	explicit Widget(int v);
	~Widget();
	int method(int x);
	int method(int x) const;
	static Widget *make();

private:
	int v_;
};

__attribute__((noinline)) Widget::Widget(int v) : v_(v)
{
	sink += v;
}

__attribute__((noinline)) Widget::~Widget()
{
	sink -= v_;
}

__attribute__((noinline)) int Widget::method(int x)
{
	v_ += x;
	return v_;
}

__attribute__((noinline)) int Widget::method(int x) const
{
	return v_ * x;
}

__attribute__((noinline)) Widget *Widget::make()
{
	return new Widget(40);
}

template <typename T> __attribute__((noinline)) T twice(T x)
{
	return x + x;
}

__attribute__((noinline)) int over(int x)
{
	return x + 1;
}

__attribute__((noinline)) double over(double x)
{
	return x / 2;
}

__attribute__((noinline)) int over(const char *s)
{
	return s[0];
}

namespace inner {
__attribute__((noinline)) void deep()
{
	sink++;
}
} // namespace inner

} // namespace ns

namespace {
__attribute__((noinline)) int hidden(int x)
{
	return x ^ 5;
}
} // namespace

int main()
{
	ns::Widget w(2);
	const ns::Widget &cw = w;
	ns::Widget *p = ns::Widget::make();
	double d = 0;
	int i;

	for (i = 0; i < 5; i++)
		sink += w.method(i);
	for (i = 0; i < 2; i++)
		sink += cw.method(i);
	for (i = 0; i < 3; i++)
		sink += ns::twice<int>(i);
	for (i = 0; i < 4; i++)
		d += ns::twice<double>(i);
	for (i = 0; i < 6; i++)
		sink += ns::over(i);
	for (i = 0; i < 7; i++)
		d += ns::over(1.0 * i);
	for (i = 0; i < 8; i++)
		sink += ns::over("x");
	ns::inner::deep();
	for (i = 0; i < 9; i++)
		sink += hidden(i);
	delete p;
	std::printf("cxxnames %ld %.1f\n", (long)sink, d);
	return 0;
}
